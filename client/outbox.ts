import type { BatonError } from "./errors.ts";

/** What a settled `publish()` resolves to: the message's seq, and whether it was a replay. */
export interface PublishResult {
	/** The room seq the message was stored under. */
	seq: number;
	/** True when the server had already stored this id (a resend after reconnect): not stored twice. */
	dup: boolean;
}

/** One unacknowledged publish. */
export interface OutboxEntry {
	readonly id: string;
	/** The serialized `publish` frame, sent as is on every attempt (same id every time). */
	readonly frame: string;
	/** UTF-8 size of `frame`, to pick the culprit of a 1009. */
	readonly bytes: number;
	/** The link it was last sent on; null when it waits to be (re)sent. */
	sentOn: number | null;
	/** When it was last sent (`Date.now()`); 0 before the first send. */
	sentAt: number;
}

interface Pending extends OutboxEntry {
	resolve(result: PublishResult): void;
	reject(error: BatonError): void;
}

/**
 * Publishes not yet acknowledged, in the order `publish()` was called. Each entry is settled
 * exactly once — by its ack, by an error, or when the room closes — and leaves the outbox then;
 * a second ack for the same id (a `dup` after a resend) finds nothing and is ignored.
 */
export class Outbox {
	#pending = new Map<string, Pending>();

	/** Number of unacknowledged publishes. */
	get size(): number {
		return this.#pending.size;
	}

	/** True when a publish with this id is waiting for its ack. */
	has(id: string): boolean {
		return this.#pending.has(id);
	}

	/** Queues a serialized publish; the promise settles when its ack (or a failure) arrives. */
	add(id: string, frame: string): { entry: OutboxEntry; settled: Promise<PublishResult> } {
		let resolve!: (result: PublishResult) => void;
		let reject!: (error: BatonError) => void;
		const settled = new Promise<PublishResult>((res, rej) => {
			resolve = res;
			reject = rej;
		});
		const entry: Pending = { id, frame, bytes: new TextEncoder().encode(frame).length, sentOn: null, sentAt: 0, resolve, reject };
		this.#pending.set(id, entry);
		return { entry, settled };
	}

	/** Entries not yet sent on link `linkId`, oldest first, and how many were sent on it unacked. */
	queueOn(linkId: number): { unsent: OutboxEntry[]; inFlight: number } {
		const unsent: OutboxEntry[] = [];
		let inFlight = 0;
		for (const entry of this.#pending.values()) {
			if (entry.sentOn === linkId) inFlight++;
			else unsent.push(entry);
		}
		return { unsent, inFlight };
	}

	/**
	 * Marks `id` as waiting to be sent again (after a `rate_limited` refusal); returns when it had
	 * been sent, or undefined when it is not pending.
	 */
	markUnsent(id: string): number | undefined {
		const entry = this.#pending.get(id);
		if (entry === undefined) return undefined;
		entry.sentOn = null;
		return entry.sentAt;
	}

	/** Resolves the publish `id`; false when it was already settled. */
	ack(id: string, result: PublishResult): boolean {
		const entry = this.#pending.get(id);
		if (entry === undefined) return false;
		this.#pending.delete(id);
		entry.resolve(result);
		return true;
	}

	/** Rejects the publish `id`; false when it was already settled. */
	fail(id: string, error: BatonError): boolean {
		const entry = this.#pending.get(id);
		if (entry === undefined) return false;
		this.#pending.delete(id);
		entry.reject(error);
		return true;
	}

	/**
	 * Rejects the publish that made the server close with 1009 and returns its id. The server does
	 * not say which frame it was, so this picks the largest one sent on that link (the oldest among
	 * equals): the culprit was over the limit, so the largest one is too and would fail again.
	 */
	failLargestSentOn(linkId: number, error: BatonError): string | undefined {
		let culprit: Pending | undefined;
		for (const entry of this.#pending.values()) {
			if (entry.sentOn === linkId && (culprit === undefined || entry.bytes > culprit.bytes)) culprit = entry;
		}
		if (culprit === undefined) return undefined;
		this.fail(culprit.id, error);
		return culprit.id;
	}

	/** Rejects every pending publish (the room closed for good). */
	failAll(error: BatonError): void {
		const entries = [...this.#pending.values()];
		this.#pending.clear();
		for (const entry of entries) entry.reject(error);
	}
}
