import { BatonError, ClientErrorCode } from "./errors.ts";
import { onAbort, type SignalLike } from "./signal.ts";

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
	/** The app's data, as passed to `publish()` (or read back from a saved frame). */
	readonly data: unknown;
	/** UTF-8 size of `frame`, to pick the culprit of a 1009. */
	readonly bytes: number;
	/** Restored from a saved session (`persist`): no caller holds its promise. */
	readonly restored: boolean;
	/** The link it was last sent on; null when it waits to be (re)sent. */
	sentOn: number | null;
	/** When it was last sent (`Date.now()`); 0 before the first send. */
	sentAt: number;
}

/** Options of {@link Outbox.add}. */
export interface AddOptions {
	data?: unknown;
	/** Give up after this many ms (`publish_timeout`). */
	timeoutMs?: number;
	/** Give up when it aborts (`aborted`). */
	signal?: SignalLike;
	restored?: boolean;
}

interface Pending extends OutboxEntry {
	resolve(result: PublishResult): void;
	reject(error: BatonError): void;
	/** Removes the timeout and abort listener. */
	unguard(): void;
}

/** How many given-up ids are remembered, to drop their late `ack`/`error` frames quietly. */
const FORGOTTEN_IDS = 256;

/**
 * Publishes not yet acknowledged, in the order `publish()` was called. Each entry is settled
 * exactly once — by its ack, by an error, by its timeout or abort signal, or when the room
 * closes — and leaves the outbox then, so it is never sent again; a second ack for the same id
 * (a `dup` after a resend) finds nothing and is ignored. `onChange` runs after every add and
 * removal (the `persist` option saves the outbox then).
 */
export class Outbox {
	#pending = new Map<string, Pending>();
	/** Ids given up on after being sent: their answers may still arrive. */
	#forgotten = new Set<string>();
	readonly #onChange: () => void;

	constructor(onChange: () => void = () => undefined) {
		this.#onChange = onChange;
	}

	/** Number of unacknowledged publishes. */
	get size(): number {
		return this.#pending.size;
	}

	/** True when a publish with this id is waiting for its ack. */
	has(id: string): boolean {
		return this.#pending.has(id);
	}

	/** True when `id` was given up on (timeout, abort) after it had been sent. */
	forgot(id: string): boolean {
		return this.#forgotten.has(id);
	}

	/** Every pending entry, oldest first. */
	entries(): OutboxEntry[] {
		return [...this.#pending.values()];
	}

	/** Queues a serialized publish; the promise settles when its ack (or a failure) arrives. */
	add(id: string, frame: string, options: AddOptions = {}): { entry: OutboxEntry; settled: Promise<PublishResult> } {
		let resolve!: (result: PublishResult) => void;
		let reject!: (error: BatonError) => void;
		const settled = new Promise<PublishResult>((res, rej) => {
			resolve = res;
			reject = rej;
		});
		const entry: Pending = {
			id,
			frame,
			data: options.data,
			bytes: new TextEncoder().encode(frame).length,
			restored: options.restored === true,
			sentOn: null,
			sentAt: 0,
			resolve,
			reject,
			unguard: () => undefined,
		};
		this.#pending.set(id, entry);
		entry.unguard = this.#guard(entry, options);
		this.#onChange();
		return { entry, settled };
	}

	/** Arms the entry's timeout and abort signal; returns what disarms them. */
	#guard(entry: Pending, options: AddOptions): () => void {
		const giveUp = (code: ClientErrorCode, why: string): void => {
			const maybeStored = entry.sentAt > 0;
			if (maybeStored) this.#remember(entry.id);
			const stored = maybeStored ? "it had been sent, so the room may have stored it (once)" : "it was never sent";
			this.fail(entry.id, new BatonError(code, `publish ${entry.id} ${why}; ${stored}`, { publishId: entry.id, maybeStored }));
		};
		const timeoutMs = options.timeoutMs;
		const timer =
			timeoutMs === undefined ? undefined : setTimeout(() => giveUp(ClientErrorCode.PublishTimeout, `was not acknowledged within ${timeoutMs} ms`), timeoutMs);
		const stopListening = onAbort(options.signal, () => giveUp(ClientErrorCode.Aborted, "was aborted"));
		return () => {
			if (timer !== undefined) clearTimeout(timer);
			stopListening();
		};
	}

	#remember(id: string): void {
		this.#forgotten.add(id);
		if (this.#forgotten.size > FORGOTTEN_IDS) {
			const oldest = this.#forgotten.values().next().value;
			if (oldest !== undefined) this.#forgotten.delete(oldest);
		}
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
		const entry = this.#take(id);
		if (entry === undefined) return false;
		entry.resolve(result);
		return true;
	}

	/** Rejects the publish `id`; false when it was already settled. */
	fail(id: string, error: BatonError): boolean {
		const entry = this.#take(id);
		if (entry === undefined) return false;
		entry.reject(error);
		return true;
	}

	#take(id: string): Pending | undefined {
		const entry = this.#pending.get(id);
		if (entry === undefined) return undefined;
		this.#pending.delete(id);
		entry.unguard();
		this.#onChange();
		return entry;
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

	/** Rejects every pending publish (the room closed for good), or only those `which` selects. */
	failAll(error: BatonError, which: (entry: OutboxEntry) => boolean = () => true): void {
		const entries = [...this.#pending.values()].filter(which);
		if (entries.length === 0) return;
		for (const entry of entries) {
			this.#pending.delete(entry.id);
			entry.unguard();
		}
		this.#onChange();
		for (const entry of entries) entry.reject(error);
	}
}
