import { CloseCode, ErrorCode, type ErrorFrame, type MessageFrame, MessageType, PING, PONG, parseServerFrame, type WelcomeFrame } from "../protocol/index.ts";
import { fullJitter } from "./backoff.ts";
import { watchClose } from "./close-watch.ts";
import { Emitter, type Handler } from "./emitter.ts";
import { encodePublish } from "./encode.ts";
import { BatonError, ClientErrorCode, stopErrorCode } from "./errors.ts";
import { PublishFlow } from "./flow.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { IdSource } from "./ids.ts";
import { type ResolvedOptions, resolveOptions } from "./options.ts";
import { OrderedDelivery } from "./ordering.ts";
import { Outbox, type OutboxEntry, type PublishResult } from "./outbox.ts";
import { type LinkLoss, LOCAL_CLOSE_CODE, nextStep } from "./policy.ts";
import { closeSocket, type SocketMessageEvent, sendText, type WebSocketLike } from "./socket.ts";
import { Timers } from "./timers.ts";
import type { ConnectOptions, LogLevel, PublishOptions, RoomEvents, RoomState } from "./types.ts";
import { socketProtocols, socketUrl } from "./url.ts";

/** One socket, from dial to close. Facts about it live here, not in flags on the connection. */
interface Link {
	readonly id: number;
	readonly ws: WebSocketLike;
	/** The `after` this socket asked for; null on a live-only first connect. */
	readonly after: number | null;
	/** When the last frame of any kind arrived (liveness). */
	lastFrameAt: number;
}

/** `reconnect` outlives a link; every other timer belongs to the current link. */
type TimerName = "reconnect" | "connect" | "ping" | "deadline" | "retry" | "pace";
const LINK_TIMERS: readonly TimerName[] = ["connect", "ping", "deadline", "retry", "pace"];

/**
 * One room connection: a state machine over `connecting | open | reconnecting | closed`, changed
 * only by `#setState`, ended only by `#shutdown`. Reconnect decisions come from the pure
 * {@link nextStep} policy; delivery order from {@link OrderedDelivery}; publishes from the
 * {@link Outbox}. Create it with {@link connect}.
 */
export class RoomConnection {
	readonly #options: ResolvedOptions;
	readonly #events = new Emitter<RoomEvents>();
	readonly #timers = new Timers<TimerName>();
	readonly #outbox = new Outbox();
	readonly #flow = new PublishFlow();
	readonly #ordering: OrderedDelivery;
	readonly #ids = new IdSource();

	#state: RoomState = "connecting";
	#link: Link | null = null;
	#links = 0;
	/** Index into the endpoints of the next dial. */
	#endpoint = 0;
	/** Retries since the last welcome. */
	#attempt = 0;
	/** 4001 closes since the last welcome. */
	#unauthorizedSinceWelcome = 0;
	/** `rate_limited` refusals since the last ack. */
	#rateLimitStrikes = 0;
	/** The cached access token; null when it must be (re)fetched. */
	#token: string | null = null;
	/** The last welcome's resume token; null before the first welcome. */
	#resume: string | null = null;

	/**
	 * Use {@link connect}.
	 * @throws TypeError for options that could never work.
	 */
	constructor(options: ConnectOptions) {
		this.#options = resolveOptions(options);
		this.#ordering = new OrderedDelivery(this.#options.after);
		// Dial from a microtask so handlers attached right after connect() see every event.
		queueMicrotask(() => void this.#dial());
	}

	/** Where the connection is; see {@link RoomState}. */
	get state(): RoomState {
		return this.#state;
	}

	/** The seq the app has received every message up to, in order (0 before anything is known). */
	get lastSeq(): number {
		return this.#ordering.cursor ?? 0;
	}

	/** Publishes waiting for their ack (sent or queued). */
	get pendingPublishes(): number {
		return this.#outbox.size;
	}

	/** Adds an event handler; returns a function that removes it. */
	on<K extends keyof RoomEvents>(type: K, handler: Handler<RoomEvents[K]>): () => void {
		return this.#events.on(type, handler);
	}

	/**
	 * Publishes `data` (any JSON value) to the room. Queued while offline and re-sent with the
	 * same id after every reconnect until acknowledged, so the server stores it exactly once;
	 * the promise settles once, with the stored seq (`dup: true` when an earlier attempt had
	 * already been stored). Rejects with a {@link BatonError}: `too_large`, `bad_message`, `closed`,
	 * or the code of the close that stopped the room. A publish that is not awaited should get a
	 * `.catch()`, as with any promise: `close()` rejects whatever is still pending.
	 */
	publish(data: unknown, options?: PublishOptions): Promise<PublishResult> {
		if (this.#state === "closed") return Promise.reject(new BatonError(ClientErrorCode.Closed, "the room is closed"));
		const id = options?.id ?? this.#ids.next();
		if (this.#outbox.has(id)) return Promise.reject(new BatonError(ErrorCode.BadRequest, `a publish with id ${id} is already pending`));
		const encoded = encodePublish(id, data);
		if (!encoded.ok) return Promise.reject(encoded.error);
		const { settled } = this.#outbox.add(id, encoded.frame);
		if (this.#link !== null) this.#pump(this.#link);
		return settled;
	}

	/**
	 * Drops the current socket and reconnects at once, resuming the session (nothing is lost or
	 * delivered twice) — for when the app knows better than the heartbeat, e.g. the browser's
	 * `online` event after a network change. Cuts a pending backoff wait short. No-op once closed.
	 */
	reconnect(): void {
		if (this.#state === "closed") return;
		const link = this.#link;
		if (link !== null) {
			this.#linkEnded(link, { kind: "local", cause: "reconnect_requested" });
		} else if (this.#timers.has("reconnect")) {
			this.#timers.clear("reconnect");
			void this.#dial();
		}
		// Otherwise a dial is already under way (waiting for the token function).
	}

	/**
	 * Closes the connection for good: the socket is closed with 1000, every timer is cleared and
	 * pending publishes reject with `closed`. Idempotent.
	 */
	close(): void {
		this.#shutdown(CloseCode.Normal, "", new BatonError(ClientErrorCode.Closed, "the room was closed"), false);
	}

	// ---- state ---------------------------------------------------------------------------------

	#setState(to: RoomState): void {
		const from = this.#state;
		if (from === to) return;
		this.#state = to;
		this.#events.emit("state", { from, to });
	}

	/** The one way to `closed`: clears timers, closes the socket, settles everything. Idempotent. */
	#shutdown(code: number, reason: string, error: BatonError, surface: boolean): void {
		if (this.#state === "closed") return;
		this.#timers.clearAll();
		const link = this.#link;
		this.#link = null;
		if (link !== null) closeSocket(link.ws, "client closed");
		this.#log(surface ? "warn" : "info", "room closed", { code, error: surface ? error.code : undefined });
		this.#setState("closed");
		if (surface) this.#events.emit("error", { code: error.code, message: error.message, closeCode: code });
		this.#events.emit("close", { code, reason, willReconnect: false });
		this.#outbox.failAll(error);
	}

	// ---- dialing -------------------------------------------------------------------------------

	async #dial(): Promise<void> {
		if (this.#isClosed()) return;
		let token: string;
		try {
			token = await this.#currentToken();
		} catch (error) {
			if (this.#isClosed()) return;
			const message = `the token function failed: ${messageOf(error)}`;
			this.#log("warn", message);
			this.#events.emit("error", { code: ClientErrorCode.TokenUnavailable, message });
			this.#scheduleDial(fullJitter(this.#attempt++, this.#options.backoff));
			return;
		}
		if (this.#isClosed() || this.#link !== null) return;
		const endpoints = this.#options.endpoints;
		const base = endpoints[this.#endpoint % endpoints.length] ?? endpoints[0];
		const after = this.#ordering.cursor;
		const url = socketUrl(base ?? "", this.#options.room, { resume: this.#resume, after });
		let ws: WebSocketLike;
		try {
			ws = new this.#options.WebSocket(url, socketProtocols(token));
		} catch (error) {
			this.#log("warn", "WebSocket constructor threw", { endpoint: this.#endpoint, error: messageOf(error) });
			this.#recover({ kind: "close", code: CloseCode.Abnormal, reason: "" }, false, null);
			return;
		}
		const link: Link = { id: ++this.#links, ws, after, lastFrameAt: Date.now() };
		this.#link = link;
		this.#log("debug", "dialing", { endpoint: this.#endpoint, attempt: this.#attempt, resume: this.#resume !== null, after });
		ws.addEventListener("message", (event) => this.#onFrame(link, event));
		// As soon as the platform shows the close, not only once TCP ends (close-watch.ts).
		watchClose(ws, (event) => this.#linkEnded(link, { kind: "close", code: event.code, reason: event.reason }));
		// Errors are always followed by a close event; listening keeps `ws` from throwing on them.
		ws.addEventListener("error", () => this.#log("debug", "socket error", { link: link.id }));
		this.#timers.set("connect", this.#options.connectTimeout, () => {
			this.#linkEnded(link, { kind: "local", cause: "connect_timeout" });
		});
	}

	async #currentToken(): Promise<string> {
		if (this.#token !== null) return this.#token;
		const source = this.#options.token;
		const token = typeof source === "string" ? source : await source();
		if (typeof token !== "string" || token.length === 0) throw new TypeError("token must be a non-empty string");
		this.#token = token;
		return token;
	}

	#scheduleDial(delayMs: number): void {
		if (this.#state === "closed") return;
		this.#log("debug", "reconnect scheduled", { delayMs, attempt: this.#attempt });
		if (delayMs <= 0) void this.#dial();
		else this.#timers.set("reconnect", delayMs, () => void this.#dial());
	}

	// ---- losing a link -------------------------------------------------------------------------

	/** A socket closed, or the SDK gave up on it. Stale links (already replaced) are ignored. */
	#linkEnded(link: Link, loss: LinkLoss): void {
		if (link !== this.#link) return;
		const welcomed = this.#state === "open";
		this.#link = null;
		for (const name of LINK_TIMERS) this.#timers.clear(name);
		if (loss.kind === "local") closeSocket(link.ws, loss.cause);
		this.#recover(loss, welcomed, link.id);
	}

	#recover(loss: LinkLoss, welcomed: boolean, linkId: number | null): void {
		const code = loss.kind === "close" ? loss.code : LOCAL_CLOSE_CODE[loss.cause];
		const reason = loss.kind === "close" ? loss.reason : loss.cause;
		if (code === CloseCode.Unauthorized) this.#unauthorizedSinceWelcome++;
		const step = nextStep({
			loss,
			welcomed,
			attempt: this.#attempt,
			unauthorizedSinceWelcome: this.#unauthorizedSinceWelcome,
			canRefreshToken: typeof this.#options.token === "function",
			backoff: this.#options.backoff,
		});
		if (step.kind === "stop") {
			const errorCode = stopErrorCode(step.closeCode, step.reasonCode);
			const error = new BatonError(errorCode, `the server closed the connection with ${code} (${errorCode})`, code);
			this.#shutdown(code, reason, error, step.surface);
			return;
		}
		if (step.dropTooLarge && linkId !== null) {
			const tooLarge = new BatonError(ErrorCode.TooLarge, "the publish exceeded the server's message size limit", code);
			const dropped = this.#outbox.failLargestSentOn(linkId, tooLarge);
			if (dropped !== undefined) this.#log("warn", "dropped a publish the server found too large", { id: dropped });
		}
		if (step.refreshToken) this.#token = null;
		if (step.nextEndpoint) this.#endpoint = (this.#endpoint + 1) % this.#options.endpoints.length;
		this.#attempt++;
		this.#log("info", "connection lost", { code, delayMs: step.delayMs, endpoint: this.#endpoint });
		this.#setState(this.#resume === null ? "connecting" : "reconnecting");
		this.#events.emit("close", { code, reason, willReconnect: true });
		this.#scheduleDial(step.delayMs);
	}

	// ---- inbound frames ------------------------------------------------------------------------

	#onFrame(link: Link, event: SocketMessageEvent): void {
		if (link !== this.#link) return;
		link.lastFrameAt = Date.now();
		const text = event.data;
		if (typeof text !== "string" || text === PONG) return;
		const parsed = parseServerFrame(text);
		if (!parsed.ok) {
			this.#log("warn", "ignored a server frame", { reason: parsed.reason });
			return;
		}
		const frame = parsed.value;
		if (frame.type === MessageType.Welcome) {
			this.#onWelcome(link, frame);
			return;
		}
		if (this.#state !== "open") {
			this.#log("warn", "ignored a frame before welcome", { type: frame.type });
			return;
		}
		switch (frame.type) {
			case MessageType.Message:
				this.#onMessage(link, frame);
				return;
			case MessageType.Ack:
				if (this.#outbox.ack(frame.id, { seq: frame.seq, dup: frame.dup })) {
					this.#rateLimitStrikes = 0;
					this.#flow.acked();
					if (this.#outbox.size === 0) this.#flow.reset();
					this.#pump(link);
				}
				return;
			case MessageType.Presence:
				this.#events.emit("presence", frame);
				return;
			case MessageType.Error:
				this.#onError(link, frame);
				return;
			case MessageType.AuthOk:
				return;
		}
	}

	#onWelcome(link: Link, welcome: WelcomeFrame): void {
		if (this.#state === "open") {
			this.#log("warn", "ignored a second welcome");
			return;
		}
		this.#timers.clear("connect");
		this.#attempt = 0;
		this.#unauthorizedSinceWelcome = 0;
		if (this.#resume !== null && !welcome.resumed) {
			this.#log("info", "session not resumed; publishes re-sent now are deduplicated only within the new session");
		}
		this.#resume = welcome.resume;
		const gap = this.#anchor(link, welcome);
		this.#setState("open");
		this.#events.emit("welcome", welcome);
		if (gap !== null && link === this.#link) this.#events.emit("gap", gap);
		if (link !== this.#link) return;
		startHeartbeat(this.#timers, welcome.heartbeat, {
			ping: () => sendText(link.ws, PING),
			lastFrameAt: () => link.lastFrameAt,
			dead: () => this.#linkEnded(link, { kind: "local", cause: "heartbeat_timeout" }),
		});
		// A new socket has a fresh token bucket on the server.
		this.#flow.reset();
		this.#pump(link);
	}

	/** Sets where delivery continues after a welcome; returns the gap to report, if any. */
	#anchor(link: Link, welcome: WelcomeFrame): RoomEvents["gap"] | null {
		if (link.after === null) {
			// A live-only stream starts at the head.
			this.#ordering.anchor(welcome.seq);
			return null;
		}
		// `gap`: part of (after, oldest kept) was trimmed. `seq < after`: the log itself restarted.
		if (!welcome.gap && welcome.seq >= link.after) return null;
		// The seq log is gapless, so the replayed messages are exactly (seq - replayed, seq].
		const next = welcome.seq - welcome.replayed + 1;
		this.#ordering.anchor(next - 1);
		return { after: link.after, next };
	}

	#onMessage(link: Link, frame: MessageFrame): void {
		const { missing } = this.#ordering.offer(frame);
		for (let next = this.#ordering.take(); next !== undefined; next = this.#ordering.take()) {
			this.#events.emit("message", next);
			if (link !== this.#link) return;
		}
		// A live stream skipped a seq: reconnect with after=lastSeq so the server replays it.
		if (missing) this.#linkEnded(link, { kind: "local", cause: "sequence_gap" });
	}

	#onError(link: Link, frame: ErrorFrame): void {
		const id = frame.id;
		if (id === undefined || !this.#outbox.has(id)) {
			this.#events.emit("error", { code: frame.code, message: frame.message });
			return;
		}
		switch (frame.code) {
			case ErrorCode.RateLimited:
				this.#flow.refused(this.#outbox.markUnsent(id) ?? 0, Date.now());
				this.#armRetry(link);
				return;
			case ErrorCode.RoomMoving:
				// Left marked as sent on this link: the room is about to close it with 4010, and the
				// welcome on the new home re-sends it.
				return;
			default:
				this.#outbox.fail(id, new BatonError(frame.code, frame.message));
		}
	}

	// ---- outbound ------------------------------------------------------------------------------

	/**
	 * Sends publishes not yet sent on this link, oldest first, with their original ids, as far as
	 * {@link PublishFlow} allows; called again on every ack, and by a timer when it paces.
	 */
	#pump(link: Link): void {
		if (link !== this.#link || this.#state !== "open") return;
		// After a refusal nothing is sent until the retry delay has passed; a pending pace timer
		// will call again.
		if (this.#timers.has("retry") || this.#timers.has("pace")) return;
		const { unsent, inFlight } = this.#outbox.queueOn(link.id);
		let sending = inFlight;
		for (const entry of unsent) {
			const wait = this.#flow.nextSendIn(sending, Date.now());
			if (wait === null) return;
			if (wait > 0) {
				this.#timers.set("pace", wait, () => this.#pump(link));
				return;
			}
			if (!this.#sendEntry(link, entry)) return;
			this.#flow.sent(entry.sentAt);
			sending++;
		}
	}

	#sendEntry(link: Link, entry: OutboxEntry): boolean {
		if (!sendText(link.ws, entry.frame)) return false;
		entry.sentOn = link.id;
		entry.sentAt = Date.now();
		return true;
	}

	#armRetry(link: Link): void {
		if (this.#timers.has("retry")) return;
		const delay = this.#options.backoff.base + fullJitter(this.#rateLimitStrikes++, this.#options.backoff);
		this.#timers.set("retry", delay, () => this.#pump(link));
	}

	// ---- helpers -------------------------------------------------------------------------------

	/** Read through a method so checks after an `await` are not narrowed away by the compiler. */
	#isClosed(): boolean {
		return this.#state === "closed";
	}

	#log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
		this.#options.onLog?.(level, message, { room: this.#options.room, ...fields });
	}
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
