/**
 * The one publish pipeline, for socket, HTTP and server publishes alike (CONTRACT.md §5, §9, §14):
 *
 *   rate → dedupe → freeze → roles → in-flight → onPublish (bounded) → dedupe + freeze again →
 *   append → broadcast → slow consumers
 *
 * The rate comes first because a duplicate takes a token like any publish (CONTRACT.md §13): the
 * bucket is the (room, sub)'s, shared by its sockets and its HTTP publishes.
 *
 * and the caller answers with the outcome (ack, error frame or HTTP result). Without an
 * `onPublish` hook it runs without an await, so a publish is decided and stored in one event.
 * With one, the await lets other events in — another copy of the same id, a freeze — hence the
 * in-flight map (a re-sent id waits for its first copy's outcome) and the second checks at append
 * time. A connection's publishes reach this one at a time (publish-queue.ts).
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { jsonDepthExceeds, MAX_DATA_DEPTH } from "../../protocol/json-depth.ts";
import { type AppErrorFrame, MessageType, type ServerFrame } from "../../protocol/messages.ts";
import { log } from "../../src/core/log.ts";
import { MetricEvent } from "../../src/core/metrics.ts";
import type { Attachment } from "./attachment.ts";
import { badRejection, type PublishDecision, type PublishingMessage, type PublishSource, rejectionOf, runHook } from "./hooks.ts";
import { countRefusal, noteRateOutcome, type RateSettings, waitsBehindRefused } from "./rate-limit.ts";
import { retryInFrom } from "./retry.ts";
import type { RoomState } from "./state.ts";
import type { PublishResult } from "./types.ts";

export interface PublishInput {
	source: PublishSource;
	/** Dedupe scope: the session (socket), `http:<sub>` or `server:<from>`. */
	scope: string;
	id: string;
	/** The publisher, as `from` in the stored message. */
	from: string;
	data: unknown;
	/** A socket publish's connection: its rate state is checked, updated and saved before any await. */
	connection?: { attachment: Attachment; save: () => void };
}

export type PublishOutcome =
	| { kind: "stored"; seq: number }
	| { kind: "dup"; seq: number }
	/** Refused by baton: `room_moving`, `rate_limited`, `forbidden`, `internal`; `retryIn` (ms) when retrying later helps. */
	| { kind: "refused"; code: ErrorCode; message: string; retryIn?: number }
	/** Refused by the app's `onPublish` with its own code. */
	| { kind: "rejected"; code: string; message: string }
	/** The connection exceeded its refusals: it is closed (4009). */
	| { kind: "cut"; code: CloseCode; reason: object };

export type PublishHook = (msg: PublishingMessage) => PublishDecision | Promise<PublishDecision>;

/** `room_moving` carries `retryIn` (CONTRACT.md §13): a client re-sends after it, with no reconnect needed. */
const MOVING_RETRY = { baseMs: 500, spreadMs: 1000 };
const moving = (): PublishOutcome => ({
	kind: "refused",
	code: ErrorCode.RoomMoving,
	message: "the room is moving; publish again after retryIn",
	retryIn: retryInFrom(MOVING_RETRY),
});
const RATE_LIMITED = "publish rate exceeded";
const FORBIDDEN: PublishOutcome = { kind: "refused", code: ErrorCode.Forbidden, message: "the token may not publish in this room" };
const INTERNAL: PublishOutcome = { kind: "refused", code: ErrorCode.Internal, message: "the publish could not be processed" };
/** A rejection's message is app text: bounded, like everything a room sends. */
const MAX_REJECT_MESSAGE = 512;

export class PublishPipeline {
	/** Publishes in their hook, by dedupe key: a copy arriving meanwhile waits for the first's outcome. */
	readonly #inFlight = new Map<string, Promise<PublishOutcome>>();

	/**
	 * `hookOf` is asked per publish: an app may set its hook after the room's constructor ran.
	 * `appended` is told the log's cumulative byte count after each stored message (slow consumers).
	 */
	constructor(
		private readonly state: RoomState,
		private readonly hookOf: () => PublishHook | null,
		private readonly hookTimeoutMs: number,
		private readonly appended: (headCum: number) => void = () => {},
	) {}

	private get rate(): RateSettings {
		return { perSec: this.state.config.rateLimitPerSec, burst: this.state.config.rateLimitBurst };
	}

	/** Runs a publish through the pipeline; synchronous unless the room has an `onPublish` hook. */
	run(input: PublishInput, now: number): PublishOutcome | Promise<PublishOutcome> {
		const early = this.check(input, now);
		input.connection?.save();
		if (early !== null) return early;
		const hook = this.hookOf();
		// No await since the checks: the dedupe lookup just made still holds at append.
		if (hook === null) return this.commit(input, input.data, now, true);
		const key = JSON.stringify([input.scope, input.id]);
		const first = this.#inFlight.get(key);
		if (first !== undefined) {
			log.info("publish_copy_waits", { room: this.state.roomName, id: input.id, source: input.source });
			return first.then((o) => (o.kind === "stored" ? { kind: "dup", seq: o.seq } : o));
		}
		const decided = this.decide(input, hook);
		this.#inFlight.set(key, decided);
		// The caller handles `decided` itself; this chain only clears the entry.
		decided.finally(() => this.#inFlight.delete(key)).catch(() => undefined);
		return decided;
	}

	/** Rate, dedupe, freeze, roles: the checks that need no hook. Null lets the publish on. */
	private check(input: PublishInput, now: number): PublishOutcome | null {
		const rated = this.rateCheck(input, now);
		if (rated !== null) return rated;
		const dupSeq = this.state.log.findDuplicate(input.scope, input.id, now);
		if (dupSeq !== null) return { kind: "dup", seq: dupSeq };
		if (this.state.moving) return moving();
		// A read-only token (its `publish` claim lacks this room): refused, not a protocol error (§11).
		// HTTP publishes are checked by the gateway, which holds the token.
		const a = input.connection?.attachment;
		return a === undefined || a.mayPublish ? null : FORBIDDEN;
	}

	/**
	 * The (room, sub) bucket. A socket publish also keeps its connection's head-of-line rule and
	 * refusal count (4009); an HTTP one is told when a token is back. The app's own publishes
	 * (`server`) are not limited.
	 */
	private rateCheck(input: PublishInput, now: number): PublishOutcome | null {
		if (input.source === "server") return null;
		const a = input.connection?.attachment;
		if (a === undefined) {
			const took = this.state.buckets.take(input.from, now, this.rate);
			return took.ok ? null : { kind: "refused", code: ErrorCode.RateLimited, message: RATE_LIMITED, retryIn: took.retryIn };
		}
		const waits = waitsBehindRefused(a, input.id, now);
		const accepted = !waits && this.state.buckets.take(input.from, now, this.rate).ok;
		noteRateOutcome(a, input.id, accepted, waits, now);
		if (accepted) return null;
		if (countRefusal(a, now, this.rate)) return { kind: "cut", code: CloseCode.RateLimited, reason: { code: ErrorCode.RateLimited } };
		return { kind: "refused", code: ErrorCode.RateLimited, message: RATE_LIMITED };
	}

	/** Asks `onPublish`, then stores what it decided. Never rejects: a failing hook fails the publish. */
	private async decide(input: PublishInput, hook: PublishHook): Promise<PublishOutcome> {
		const msg: PublishingMessage = { room: this.state.roomName, sub: input.from, id: input.id, data: input.data, source: input.source };
		const outcome = await runHook("onPublish", msg.room, this.hookTimeoutMs, () => hook(msg));
		if (!outcome.ok) return INTERNAL;
		const reject = rejectionOf(outcome.value);
		if (reject !== null) {
			const bad = badRejection(reject);
			if (bad !== null) return this.unusable(msg.room, bad);
			return { kind: "rejected", code: reject.code, message: reject.message.slice(0, MAX_REJECT_MESSAGE) };
		}
		const value: unknown = outcome.value;
		if (typeof value !== "object" || value === null || !("data" in value)) return this.commit(input, input.data, Date.now());
		const data = this.storable(value.data);
		return data.ok ? this.commit(input, data.value, Date.now()) : this.unusable(msg.room, data.reason);
	}

	/** Data from a hook, as it will be stored and replayed: JSON, within MAX_MESSAGE_BYTES and MAX_DATA_DEPTH. */
	private storable(data: unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
		// Checked first: it also stops at a cycle, which is "too deep" by the same count.
		if (jsonDepthExceeds(data, MAX_DATA_DEPTH)) return { ok: false, reason: `data nests deeper than ${MAX_DATA_DEPTH} levels` };
		let text: string | undefined;
		try {
			text = JSON.stringify(data);
		} catch {
			text = undefined;
		}
		if (text === undefined) return { ok: false, reason: "data is not JSON" };
		if (new TextEncoder().encode(text).length > this.state.config.maxMessageBytes) return { ok: false, reason: "data is over MAX_MESSAGE_BYTES" };
		return { ok: true, value: JSON.parse(text) as unknown };
	}

	private unusable(room: string, reason: string): PublishOutcome {
		log.warn("hook_failed", { room, hook: "onPublish", reason: "bad_answer", error: reason });
		return INTERNAL;
	}

	/** Appends and broadcasts: the dedupe (inside `append`) and the freeze are checked again here. */
	private commit(input: PublishInput, data: unknown, now: number, deduped = false): PublishOutcome {
		if (this.state.moving) return moving();
		const result = this.state.log.append({ scope: input.scope, id: input.id, from: input.from, data, now }, deduped);
		if (result.text === undefined || result.cum === undefined) return { kind: "dup", seq: result.seq };
		this.state.sockets.broadcastMessage(result.text);
		this.appended(result.cum);
		this.state.metrics.count(MetricEvent.Publish, this.state.roomName, input.source);
		return { kind: "stored", seq: result.seq };
	}
}

/** How a socket publish is answered: one frame carrying its id, or the connection's close. */
export function socketReply(id: string, o: PublishOutcome): { frame: ServerFrame | AppErrorFrame } | { close: { code: CloseCode; reason: object } } {
	switch (o.kind) {
		case "stored":
		case "dup":
			return { frame: { type: MessageType.Ack, id, seq: o.seq, dup: o.kind === "dup" } };
		case "refused":
		case "rejected":
			return {
				frame: { type: MessageType.Error, code: o.code, message: o.message, id, ...("retryIn" in o && o.retryIn !== undefined ? { retryIn: o.retryIn } : {}) },
			};
		case "cut":
			return { close: { code: o.code, reason: o.reason } };
	}
}

/** How an HTTP or server publish is answered (the gateway maps a refusal to its status). */
export function publishResult(o: PublishOutcome): PublishResult {
	switch (o.kind) {
		case "stored":
		case "dup":
			return { ok: true, seq: o.seq, dup: o.kind === "dup" };
		case "refused":
			return { ok: false, code: o.code, message: o.message, ...(o.retryIn === undefined ? {} : { retryIn: o.retryIn }) };
		case "rejected":
			return { ok: false, code: o.code, message: o.message, rejected: true };
		case "cut":
			// Only a connection can be cut; an HTTP publish is never rate limited per connection.
			return { ok: false, code: ErrorCode.RateLimited, message: "publish rate exceeded" };
	}
}
