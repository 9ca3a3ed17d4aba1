import {
	type AppErrorFrame,
	CloseCode,
	ErrorCode,
	type ErrorFrame,
	isErrorCode,
	type MessageFrame,
	MessageType,
	PING,
	PONG,
	type PresenceEntry,
	parseServerFrame,
	type WelcomeFrame,
} from "../protocol/index.ts";
import { fullJitter } from "./backoff.ts";
import { watchClose } from "./close-watch.ts";
import { type Deferred, deferred } from "./deferred.ts";
import { Emitter, type Handler } from "./emitter.ts";
import { encodePublish } from "./encode.ts";
import { BatonError, ClientErrorCode, stopErrorCode } from "./errors.ts";
import { PublishFlow } from "./flow.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { fetchHistoryPage, type HistoryOptions, type HistoryPage, loadHistory, type PageRequest } from "./history.ts";
import { IdSource } from "./ids.ts";
import { InBandRefresh } from "./in-band-refresh.ts";
import { readTokenClaims } from "./jwt.ts";
import { type MessageStream, MessageStreams, type MessagesOptions } from "./message-stream.ts";
import { NETWORK_PROBE_MS, watchNetwork } from "./network.ts";
import { assertTimeout, type ResolvedOptions, resolveOptions } from "./options.ts";
import { OrderedDelivery } from "./ordering.ts";
import { Outbox, type OutboxEntry, type PublishResult } from "./outbox.ts";
import { type SavedSession, SessionStore } from "./persist.ts";
import { type LinkLoss, LOCAL_CLOSE_CODE, nextStep } from "./policy.ts";
import { PresenceView } from "./presence.ts";
import { checkPresenceOptions, fetchPresencePage, type PresencePage, type PresencePageOptions } from "./presence-page.ts";
import { ReadSchedule, utf8Bytes } from "./read-ack.ts";
import { dropRestored, restorePublishes, SessionWriter } from "./saved-session.ts";
import { onAbort, type SignalLike } from "./signal.ts";
import { closeSocket, type SocketMessageEvent, sendText, type WebSocketLike } from "./socket.ts";
import { Timers } from "./timers.ts";
import { TokenCache } from "./tokens.ts";
import type { ConnectOptions, LogLevel, PendingPublish, PublishOptions, RoomEvents, RoomState } from "./types.ts";
import { socketProtocols, socketUrl } from "./url.ts";

/** One socket, from dial to close. Facts about it live here, not in flags on the connection. */
interface Link {
	readonly id: number;
	readonly ws: WebSocketLike;
	/** The `after` this socket asked for; null on a live-only first connect. */
	readonly after: number | null;
	/** The token the connection holds on this socket: the one it dialed with, or its last in-band refresh. */
	token: string;
	/** A token sent in an `auth` frame and not yet answered; null when none is pending. */
	authPending: string | null;
	/** When the last frame of any kind arrived (liveness). */
	lastFrameAt: number;
	/** When this socket next tells the room what it received (`read`, CONTRACT.md §13). */
	readonly reads: ReadSchedule;
	/** When the pending `read` timer fires (ms since epoch); null when none is set. */
	readDueAt: number | null;
}

/** `reconnect` outlives a link; every other timer belongs to the current link. */
type TimerName = "reconnect" | "connect" | "ping" | "deadline" | "retry" | "moving" | "pace" | "refresh" | "probe" | "read";
const LINK_TIMERS: readonly TimerName[] = ["connect", "ping", "deadline", "retry", "moving", "pace", "refresh", "probe", "read"];

/** How long a publish refused `room_moving` waits before it is sent again when the server names no `retryIn`. */
const ROOM_MOVING_RETRY_MS = 1000;

/** Why a probe `ping` was sent, which decides how soon to redial if it goes unanswered. */
type ProbeCause = "network_probe_failed" | "network_online";

/**
 * One room connection: a state machine over `connecting | open | reconnecting | closed`, changed
 * only by `#setState`, ended only by `#shutdown`. Reconnect decisions come from the pure
 * {@link nextStep} policy; delivery order from {@link OrderedDelivery}; publishes from the
 * {@link Outbox}; presence from {@link PresenceView}. Create it with {@link connect}.
 *
 * `T` is the type of message data, for `publish()` and `message` events alike. It is the app's
 * word for what its publishers send: nothing on the wire checks it.
 */
export class RoomConnection<T = unknown> {
	/**
	 * Resolves with the first `welcome`; rejects with the {@link BatonError} of a close that ends
	 * the room before it (a refused token, `close()`, an aborted signal). Never rejects unhandled.
	 *
	 * @example
	 * const room = connect({ url, room: "lobby", token });
	 * const welcome = await room.ready; // throws BatonError "forbidden" if the token lacks the room
	 */
	readonly ready: Promise<WelcomeFrame>;

	readonly #options: ResolvedOptions;
	readonly #tokens: TokenCache;
	readonly #refresh: InBandRefresh<Link>;
	readonly #events = new Emitter<RoomEvents<T>>();
	readonly #timers = new Timers<TimerName>();
	readonly #outbox = new Outbox(() => this.#writer.saveSoon());
	readonly #flow = new PublishFlow();
	readonly #ids = new IdSource();
	readonly #presence = new PresenceView();
	#ordering: OrderedDelivery;

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
	/** The last welcome's resume token; null before the first welcome. */
	#resume: string | null = null;
	/** The latest welcome, for `opened()`. */
	#welcome: WelcomeFrame | null = null;
	/** The room log's epoch of the last welcome (sent with `after` on the next connect). */
	#epoch: string | null = null;
	readonly #ready: Deferred<WelcomeFrame> = deferred();
	readonly #openWaiters = new Set<Deferred<WelcomeFrame>>();
	readonly #streams = new MessageStreams<T>();
	/** Removes the signal and network listeners. */
	readonly #detach: Array<() => void> = [];
	/** How the room closed: the error pending calls reject with, and whether it was an error close. */
	#closedWith: { error: BatonError; surfaced: boolean } | null = null;

	/** Writes the saved session (`persist`); writes nothing when it is off. */
	#writer: SessionWriter = new SessionWriter(null, () => this.#savedSession());
	/** True once the first dial began; a room closed before it leaves the saved session untouched. */
	#started = false;
	/** The `sub` of the session restored from storage, until the first token is checked against it. */
	#restoredSub: string | null | undefined = undefined;
	/** The `sub` of the current token (read unverified), saved with the session. */
	#sub: string | null = null;
	#probeCause: ProbeCause = "network_probe_failed";
	/** Between `suspend()` and `resume()`: no socket, no dial. */
	#suspended = false;

	/**
	 * Use {@link connect}.
	 * @throws TypeError for options that could never work.
	 */
	constructor(options: ConnectOptions) {
		this.#options = resolveOptions(options);
		this.#tokens = new TokenCache(this.#options.token);
		this.#refresh = new InBandRefresh<Link>({
			tokens: this.#tokens,
			setTimer: (ms, fn) => this.#timers.set("refresh", ms, fn),
			isCurrent: (link) => link === this.#link,
			send: (link, text) => sendText(link.ws, text),
			adopted: (_link, token) => this.#adoptSub(token),
			error: (event) => this.#events.emit("error", event),
			log: (level, message, fields) => this.#log(level, message, fields),
		});
		this.ready = this.#ready.promise;
		// `ready` is a convenience: an app that never awaits it must not see an unhandled rejection.
		this.ready.catch(() => undefined);
		let after = this.#options.after;
		const persist = this.#options.persist;
		if (persist !== null) {
			const store = new SessionStore(persist.storage, persist.key, (message) => this.#log("warn", message));
			const saved = store.load();
			if (saved !== null) {
				this.#restore(saved);
				after = saved.lastSeq ?? after;
			}
			this.#writer = new SessionWriter(store, () => this.#savedSession());
		} else if (options.persist !== undefined && options.persist !== false) {
			this.#log("warn", "persist: no storage in this runtime (pass persist.storage); the session is not saved");
		}
		this.#ordering = new OrderedDelivery(after);
		const signal = this.#options.signal;
		if (signal?.aborted !== true) this.#detach.push(onAbort(signal, () => this.#abort()));
		const network = this.#options.network;
		if (network !== null) this.#detach.push(watchNetwork(network, { online: () => this.#onOnline(), offline: () => this.#onOffline() }));
		// Dial (or close, for a signal aborted already) from a microtask, so handlers attached right
		// after connect() see every event.
		queueMicrotask(() => {
			if (signal?.aborted === true) this.#abort();
			else void this.#dial();
		});
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

	/** The publishes waiting for their ack, oldest first (restored ones included), e.g. to show them greyed. */
	get pending(): PendingPublish<T>[] {
		return this.#outbox.entries().map((entry) => ({ id: entry.id, data: entry.data as T, sent: entry.sentAt > 0, restored: entry.restored }));
	}

	/**
	 * Who is in the room: every sub in event mode; in count mode (large rooms, CONTRACT.md §12) a
	 * sample, see {@link presenceTruncated}. The array keeps its identity until it changes.
	 */
	get presence(): readonly PresenceEntry[] {
		return this.#presence.list;
	}

	/** The number of distinct subs present. */
	get presenceCount(): number {
		return this.#presence.count;
	}

	/** True in count mode: {@link presence} lists only some of the subs present. */
	get presenceTruncated(): boolean {
		return this.#presence.truncated;
	}

	/** True between {@link suspend} and {@link resume}. */
	get suspended(): boolean {
		return this.#suspended;
	}

	/** Adds an event handler; returns a function that removes it. */
	on<K extends keyof RoomEvents<T>>(type: K, handler: Handler<RoomEvents<T>[K]>): () => void {
		return this.#events.on(type, handler);
	}

	/**
	 * Resolves with the current welcome when the room is open, else with the next one; rejects
	 * with the closing error once the room is closed. Handy after a publish queued offline.
	 *
	 * @example
	 * await room.opened(); // returns at once while open
	 */
	opened(): Promise<WelcomeFrame> {
		if (this.#state === "open" && this.#welcome !== null) return Promise.resolve(this.#welcome);
		if (this.#closedWith !== null) return Promise.reject(this.#closedWith.error);
		const waiter = deferred<WelcomeFrame>();
		this.#openWaiters.add(waiter);
		return waiter.promise;
	}

	/**
	 * Publishes `data` (any JSON value) to the room. Queued while offline and re-sent with the
	 * same id after every reconnect until acknowledged, so the server stores it exactly once;
	 * the promise settles once, with the stored seq (`dup: true` when an earlier attempt had
	 * already been stored). Rejects with a {@link BatonError}: `too_large`, `bad_message`,
	 * `outbox_full` (`maxBuffered` publishes already pending), `aborted` / `publish_timeout` (given
	 * up: see {@link PublishOptions.signal} for what that means for delivery), `closed`, or the
	 * code of the close that stopped the room. A publish that is not awaited should get a
	 * `.catch()`, as with any promise: `close()` rejects whatever is still pending.
	 *
	 * @example
	 * const room = connect<{ text: string }>({ url, room: "lobby", token });
	 * const { seq } = await room.publish({ text: "hi" }, { timeout: 10_000 });
	 */
	publish(data: T, options: PublishOptions = {}): Promise<PublishResult> {
		if (this.#state === "closed") return Promise.reject(new BatonError(ClientErrorCode.Closed, "the room is closed"));
		const id = options.id ?? this.#ids.next();
		if (this.#outbox.has(id)) return Promise.reject(new BatonError(ErrorCode.BadRequest, `a publish with id ${id} is already pending`));
		if (this.#outbox.size >= this.#options.maxBuffered) {
			return Promise.reject(
				new BatonError(ClientErrorCode.OutboxFull, `${this.#outbox.size} publishes are already waiting for their ack (maxBuffered)`, {
					publishId: id,
					maybeStored: false,
				}),
			);
		}
		if (options.signal?.aborted) {
			return Promise.reject(new BatonError(ClientErrorCode.Aborted, `publish ${id} was aborted; it was never sent`, { publishId: id, maybeStored: false }));
		}
		const timeout = options.timeout ?? this.#options.publishTimeout ?? undefined;
		if (timeout !== undefined) {
			try {
				assertTimeout(timeout, "timeout");
			} catch (error) {
				return Promise.reject(new BatonError(ErrorCode.BadRequest, messageOf(error)));
			}
		}
		const encoded = encodePublish(id, data);
		if (!encoded.ok) return Promise.reject(encoded.error);
		const { settled } = this.#outbox.add(id, encoded.frame, {
			data,
			...(timeout === undefined ? {} : { timeoutMs: timeout }),
			...(options.signal === undefined ? {} : { signal: options.signal }),
		});
		if (this.#link !== null) this.#pump(this.#link);
		return settled;
	}

	/**
	 * The messages delivered from now on, as an async iterator: each once, in seq order, across
	 * reconnects. It ends when the room is closed, or throws the room's error when it stops on an
	 * error close. `bufferSize` bounds what it holds for a slow loop (`buffer_overflow` beyond).
	 *
	 * @example
	 * for await (const m of room.messages()) render(m.seq, m.data);
	 */
	messages(options: MessagesOptions = {}): MessageStream<T> {
		return this.#streams.open(options);
	}

	/**
	 * Reads kept messages over HTTP (`GET /v1/rooms/:room/messages`) with the connection's token,
	 * newest first page by default; page back with `before: page.messages[0].seq`. Works whatever
	 * the socket's state. Rejects with a {@link BatonError}: the route's error code and `status`,
	 * `network_error`, `aborted`, `bad_request` for options out of range.
	 *
	 * @example
	 * let page = await room.history({ limit: 50 });
	 * while (page.hasMore) page = await room.history({ before: page.messages[0].seq, limit: 50 });
	 */
	async history(options: HistoryOptions = {}): Promise<HistoryPage<T>> {
		const getPage = (after: number, limit: number) => this.#request(options.signal, (request) => fetchHistoryPage(request, after, limit));
		return loadHistory<T>(getPage, options, Math.max(this.lastSeq, this.#welcome?.seq ?? 0));
	}

	/**
	 * Reads who is in the room over HTTP (`GET /v1/rooms/:room/presence`), a page at a time,
	 * sorted by sub, with the connection's token. In count mode (large rooms, `presenceTruncated`)
	 * `presence` is only a sample: this is how to list everyone. Rejects like {@link history}.
	 *
	 * @example
	 * const everyone = [];
	 * let page = await room.presencePage({ limit: 1000 });
	 * everyone.push(...page.presence);
	 * while (page.next !== null) everyone.push(...(page = await room.presencePage({ cursor: page.next, limit: 1000 })).presence);
	 */
	async presencePage(options: PresencePageOptions = {}): Promise<PresencePage> {
		const { cursor, limit } = checkPresenceOptions(options);
		return this.#request(options.signal, (request) => fetchPresencePage(request, cursor, limit));
	}

	/** One authorized HTTP read of a room route; a 401 is retried once with a fresh token when the token is a function. */
	async #request<P>(signal: SignalLike | undefined, send: (request: PageRequest) => Promise<P>): Promise<P> {
		const fetch = this.#options.fetch;
		if (fetch === undefined) throw new BatonError(ClientErrorCode.NetworkError, "no global fetch in this runtime; pass the `fetch` option");
		const endpoints = this.#options.endpoints;
		const base = endpoints[this.#endpoint % endpoints.length] ?? endpoints[0] ?? "";
		const token = await this.#tokenForRequest();
		try {
			return await send({ fetch, base, room: this.#options.room, token, signal });
		} catch (error) {
			// An expired token: one retry with a fresh one, when the token is a function.
			if (!(error instanceof BatonError && error.status === 401 && this.#tokens.refreshable)) throw error;
			this.#tokens.invalidate(token);
			return send({ fetch, base, room: this.#options.room, token: await this.#tokenForRequest(), signal });
		}
	}

	/**
	 * Drops the current socket (closing it with 4000) and reconnects at once, resuming the session
	 * (nothing is lost or delivered twice). Cuts a pending backoff wait short. No-op once closed.
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
	 * Takes the connection offline until {@link resume}: drops the socket (closing it with 4000,
	 * so the room keeps this user present for its grace period) and dials no more — backoff
	 * waits, `online` events and `reconnect()` included. Publishes queue as they do offline. For
	 * an app's own "offline" switch (a demo, a paused background tab). No-op once closed or while
	 * suspended.
	 *
	 * @example
	 * room.suspend();
	 * setTimeout(() => room.resume(), 5_000); // resumes the session: what was missed is replayed
	 */
	suspend(): void {
		if (this.#state === "closed" || this.#suspended) return;
		this.#suspended = true;
		this.#timers.clear("reconnect");
		this.#log("info", "suspended");
		const link = this.#link;
		if (link !== null) this.#linkEnded(link, { kind: "local", cause: "suspended" });
	}

	/**
	 * Ends {@link suspend}: dials at once and resumes the session (the room replays what was
	 * published meanwhile; queued publishes are sent). No-op unless suspended.
	 */
	resume(): void {
		if (this.#state === "closed" || !this.#suspended) return;
		this.#suspended = false;
		this.#log("info", "resumed by the app");
		if (this.#link === null) void this.#dial();
	}

	/**
	 * Closes the connection for good: the socket is closed with 1000 (a goodbye: the others see
	 * this user leave at once), every timer is cleared and pending publishes reject with `closed`.
	 * Idempotent.
	 */
	close(): void {
		this.#shutdown(CloseCode.Normal, "", new BatonError(ClientErrorCode.Closed, "the room was closed"), false, this.#state === "open");
	}

	// ---- state ---------------------------------------------------------------------------------

	#setState(to: RoomState): void {
		const from = this.#state;
		if (from === to) return;
		this.#state = to;
		this.#events.emit("state", { from, to });
	}

	/** The one way to `closed`: clears timers, closes the socket, settles everything. Idempotent. */
	#shutdown(code: number, reason: string, error: BatonError, surface: boolean, opened: boolean): void {
		if (this.#state === "closed") return;
		this.#timers.clearAll();
		for (const detach of this.#detach.splice(0)) detach();
		const link = this.#link;
		this.#link = null;
		if (link !== null) closeSocket(link.ws, CloseCode.Normal, "client closed");
		// Closed before it ever dialed (React StrictMode's first mount): it did nothing, so the saved
		// session stays as it was for the next connection. Its own publishes were never saved.
		if (!this.#started) this.#writer.detach();
		this.#closedWith = { error, surfaced: surface };
		this.#log(surface ? "warn" : "info", "room closed", { code, error: surface ? error.code : undefined });
		this.#setState("closed");
		if (surface) this.#events.emit("error", { code: error.code, message: error.message, closeCode: code });
		this.#events.emit("close", { code, reason, willReconnect: false, opened });
		this.#ready.reject(error);
		for (const waiter of this.#openWaiters) waiter.reject(error);
		this.#openWaiters.clear();
		this.#streams.end(surface ? error : null);
		this.#outbox.failAll(error);
	}

	/** The connect signal aborted: a close like `close()`, with `aborted` for what is pending. */
	#abort(): void {
		this.#shutdown(CloseCode.Normal, "", new BatonError(ClientErrorCode.Aborted, "the connect signal was aborted"), false, this.#state === "open");
	}

	// ---- dialing -------------------------------------------------------------------------------

	async #dial(): Promise<void> {
		if (this.#isClosed() || this.#suspended) return;
		this.#started = true;
		let token: string;
		try {
			token = await this.#tokens.current();
		} catch (error) {
			if (this.#isClosed()) return;
			const message = `the token function failed: ${messageOf(error)}`;
			this.#log("warn", message);
			this.#events.emit("error", { code: ClientErrorCode.TokenUnavailable, message });
			this.#scheduleDial(fullJitter(this.#attempt++, this.#options.backoff));
			return;
		}
		// Closed, dialed by another call meanwhile, or suspended while the token function ran.
		if (this.#isClosed() || this.#link !== null || this.#suspended) return;
		this.#adoptSub(token);
		const endpoints = this.#options.endpoints;
		const base = endpoints[this.#endpoint % endpoints.length] ?? endpoints[0];
		const after = this.#ordering.cursor;
		// The epoch `after` counts in: a room whose log is another answers with `reset` (CONTRACT.md §13).
		const url = socketUrl(base ?? "", this.#options.room, { resume: this.#resume, after, epoch: after === null ? null : this.#epoch });
		let ws: WebSocketLike;
		try {
			ws = new this.#options.WebSocket(url, socketProtocols(token));
		} catch (error) {
			this.#log("warn", "WebSocket constructor threw", { endpoint: this.#endpoint, error: messageOf(error) });
			this.#recover({ kind: "close", code: CloseCode.Abnormal, reason: "" }, false, null);
			return;
		}
		const link: Link = { id: ++this.#links, ws, after, token, authPending: null, lastFrameAt: Date.now(), reads: new ReadSchedule(), readDueAt: null };
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

	/** The token for an HTTP request, failures as `token_unavailable`. */
	async #tokenForRequest(): Promise<string> {
		try {
			return await this.#tokens.current();
		} catch (error) {
			throw new BatonError(ClientErrorCode.TokenUnavailable, `the token function failed: ${messageOf(error)}`);
		}
	}

	#scheduleDial(delayMs: number): void {
		// While suspended, `resume()` dials.
		if (this.#state === "closed" || this.#suspended) return;
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
		// Replacing the socket, not leaving: 4000 keeps the room's presence grace (CONTRACT.md §12).
		if (loss.kind === "local") closeSocket(link.ws, CloseCode.ClientReconnect, loss.cause);
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
			canRefreshToken: this.#tokens.refreshable,
			backoff: this.#options.backoff,
		});
		if (step.kind === "stop") {
			const errorCode = stopErrorCode(step.closeCode, step.reasonCode);
			const error = new BatonError(errorCode, `the server closed the connection with ${code} (${errorCode})`, { closeCode: code });
			this.#shutdown(code, reason, error, step.surface, welcomed);
			return;
		}
		if (step.dropTooLarge && linkId !== null) {
			const tooLarge = new BatonError(ErrorCode.TooLarge, "the publish exceeded the server's message size limit", { closeCode: code });
			const dropped = this.#outbox.failLargestSentOn(linkId, tooLarge);
			if (dropped !== undefined) this.#log("warn", "dropped a publish the server found too large", { id: dropped });
		}
		if (step.refreshToken) this.#tokens.invalidate();
		if (step.nextEndpoint) this.#endpoint = (this.#endpoint + 1) % this.#options.endpoints.length;
		this.#attempt++;
		this.#log("info", welcomed ? "connection lost" : "dial failed", { code, delayMs: step.delayMs, endpoint: this.#endpoint });
		this.#setState(this.#resume === null ? "connecting" : "reconnecting");
		if (welcomed) this.#events.emit("close", { code, reason, willReconnect: true, opened: true });
		else this.#events.emit("dial_failed", { code, reason, attempt: this.#attempt, retryIn: step.delayMs });
		this.#scheduleDial(step.delayMs);
	}

	// ---- inbound frames ------------------------------------------------------------------------

	#onFrame(link: Link, event: SocketMessageEvent): void {
		if (link !== this.#link) return;
		link.lastFrameAt = Date.now();
		// Any frame answers a network probe: the socket still carries traffic.
		if (this.#timers.has("probe")) {
			this.#timers.clear("probe");
			this.#log("debug", "network probe answered", { link: link.id });
		}
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
				this.#scheduleRead(link, utf8Bytes(text));
				return;
			case MessageType.Ack:
				if (this.#outbox.ack(frame.id, { seq: frame.seq, dup: frame.dup })) {
					this.#rateLimitStrikes = 0;
					this.#flow.acked();
					if (this.#outbox.size === 0) this.#flow.reset();
					this.#events.emit("ack", { id: frame.id, seq: frame.seq, dup: frame.dup });
					this.#pump(link);
				}
				return;
			case MessageType.Presence:
				this.#presenceChanged(this.#presence.onPresence(frame));
				this.#events.emit("presence", frame);
				return;
			case MessageType.PresenceCount:
				this.#presenceChanged(this.#presence.onCount(frame));
				return;
			case MessageType.PresenceState: {
				const changed = this.#presence.onState(frame);
				this.#events.emit("presence_state", frame);
				this.#presenceChanged(changed);
				return;
			}
			case MessageType.Error:
				this.#onError(link, frame);
				return;
			case MessageType.AuthOk:
				this.#refresh.accepted(link, frame);
				return;
		}
	}

	#presenceChanged(changed: boolean): void {
		if (changed) this.#events.emit("presence_count", { count: this.#presence.count, truncated: this.#presence.truncated });
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
		this.#welcome = welcome;
		if (welcome.epoch !== undefined) this.#epoch = welcome.epoch;
		const gap = this.#anchor(link, welcome);
		this.#writer.saveSoon();
		const presenceChanged = this.#presence.onWelcome(welcome);
		// Settled before any handler runs, so a handler that closes the room does not turn them into rejections.
		this.#ready.resolve(welcome);
		for (const waiter of this.#openWaiters) waiter.resolve(welcome);
		this.#openWaiters.clear();
		this.#setState("open");
		this.#events.emit("welcome", welcome);
		// Any handler may have closed or replaced the link; stop as soon as one did.
		if (link !== this.#link) return;
		this.#presenceChanged(presenceChanged);
		if (gap !== null && link === this.#link) this.#events.emit("gap", gap);
		if (link !== this.#link) return;
		startHeartbeat(this.#timers, welcome.heartbeat, {
			ping: () => sendText(link.ws, PING),
			lastFrameAt: () => link.lastFrameAt,
			dead: () => this.#linkEnded(link, { kind: "local", cause: "heartbeat_timeout" }),
		});
		this.#refresh.schedule(link, readTokenClaims(link.token).exp);
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
		// `gap`: part of (after, oldest kept) was trimmed. `seq < after`: the log itself restarted
		// (a server without epochs). `reset` (with `gap`): the room's log is another than the one
		// `after` counted in; its replay starts at its oldest message and `lastSeq` moves back there.
		if (!welcome.gap && welcome.reset !== true && welcome.seq >= link.after) return null;
		// The seq log is gapless, so the replayed messages are exactly (seq - replayed, seq].
		const next = welcome.seq - welcome.replayed + 1;
		this.#ordering.anchor(next - 1);
		return { after: link.after, next };
	}

	#onMessage(link: Link, frame: MessageFrame): void {
		const { missing } = this.#ordering.offer(frame);
		let delivered = false;
		for (let next = this.#ordering.take(); next !== undefined; next = this.#ordering.take()) {
			delivered = true;
			const message = next as MessageFrame<T>;
			this.#streams.push(message);
			this.#events.emit("message", message);
			if (link !== this.#link) break;
		}
		if (delivered) this.#writer.saveSoon();
		// A live stream skipped a seq: reconnect with after=lastSeq so the server replays it.
		if (missing && link === this.#link) this.#linkEnded(link, { kind: "local", cause: "sequence_gap" });
	}

	#onError(link: Link, frame: ErrorFrame | AppErrorFrame): void {
		const id = frame.id;
		if (isErrorCode(frame.code) && this.#refresh.refused(link, { ...frame, code: frame.code })) return;
		if (id !== undefined && this.#outbox.forgot(id)) {
			// The answer to a publish given up on (timeout, abort): nobody is waiting for it.
			this.#log("debug", "ignored an error for a publish given up on", { id, code: frame.code });
			return;
		}
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
				// The room is frozen for a migration (CONTRACT.md §13): sent again after `retryIn` on
				// this socket — a migration that rolls back sends no 4010. Nothing is sent meanwhile, so
				// publishes keep their order; if the room moves instead, the new home's welcome re-sends it.
				this.#outbox.markUnsent(id);
				if (!this.#timers.has("moving"))
					this.#timers.set("moving", ("retryIn" in frame ? frame.retryIn : undefined) ?? ROOM_MOVING_RETRY_MS, () => this.#pump(link));
				return;
			default:
				this.#outbox.fail(id, new BatonError(frame.code, frame.message, { publishId: id }));
		}
	}

	// ---- browser connectivity ------------------------------------------------------------------

	#onOnline(): void {
		if (this.#state === "closed") return;
		const link = this.#link;
		if (link === null) {
			if (!this.#timers.has("reconnect")) return; // a dial is under way (waiting for the token)
			this.#log("info", "online: dialing now instead of waiting out the backoff");
			this.#timers.clear("reconnect");
			void this.#dial();
			return;
		}
		if (this.#state !== "open") {
			// A dial begun while offline can hang until its connect timeout: start a fresh one.
			this.#linkEnded(link, { kind: "local", cause: "network_online" });
			return;
		}
		this.#probe(link, "network_online");
	}

	#onOffline(): void {
		const link = this.#link;
		if (link !== null && this.#state === "open") this.#probe(link, "network_probe_failed");
	}

	/**
	 * Sends a `ping` and gives the socket {@link NETWORK_PROBE_MS} to answer with any frame (the
	 * runtime answers `pong` without waking the room); a socket that does not is replaced. One
	 * that answers stays: a connectivity event alone never drops a working socket.
	 */
	#probe(link: Link, cause: ProbeCause): void {
		// An `online` after an `offline` makes a pending probe's failure a reason to dial at once.
		if (this.#timers.has("probe")) {
			if (cause === "network_online") this.#probeCause = cause;
			return;
		}
		this.#probeCause = cause;
		if (!sendText(link.ws, PING)) {
			this.#linkEnded(link, { kind: "local", cause });
			return;
		}
		this.#timers.set("probe", NETWORK_PROBE_MS, () => this.#linkEnded(link, { kind: "local", cause: this.#probeCause }));
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
		if (this.#timers.has("retry") || this.#timers.has("moving") || this.#timers.has("pace")) return;
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

	/** After a message of `bytes` arrived: a `read` now, or a timer for when one is due. */
	#scheduleRead(link: Link, bytes: number): void {
		if (link !== this.#link) return;
		const now = Date.now();
		// The bigger the room, the more often: its connections share one send budget (read-ack.ts).
		link.reads.roomSize(this.#presence.count);
		const due = link.reads.received(bytes, now);
		if (due <= now) {
			this.#sendRead(link);
			return;
		}
		if (link.readDueAt === due) return;
		link.readDueAt = due;
		this.#timers.set("read", due - now, () => this.#sendRead(link));
	}

	/** Tells the room everything up to `lastSeq` arrived (never answered). */
	#sendRead(link: Link): void {
		this.#timers.clear("read");
		link.readDueAt = null;
		const seq = this.#ordering.cursor;
		if (link !== this.#link || seq === null || !link.reads.worth(seq)) return;
		if (sendText(link.ws, JSON.stringify({ type: MessageType.Read, seq }))) link.reads.sent(seq, Date.now());
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

	// ---- persist -------------------------------------------------------------------------------

	/** Takes over a saved session: its resume token, and its publishes under their original ids. */
	#restore(saved: SavedSession): void {
		this.#resume = saved.resume;
		this.#sub = saved.sub;
		this.#restoredSub = saved.sub;
		this.#epoch = saved.epoch;
		restorePublishes(this.#outbox, saved.outbox, this.#options.publishTimeout ?? undefined, (id, error) => {
			this.#events.emit("error", { code: error.code, message: error.message, publishId: id });
		});
		this.#log("info", "restored a saved session", { resume: saved.resume !== null, lastSeq: saved.lastSeq, publishes: this.#outbox.size });
	}

	/** What `persist` saves. */
	#savedSession(): SavedSession {
		return {
			sub: this.#sub,
			resume: this.#resume,
			lastSeq: this.#ordering.cursor,
			epoch: this.#epoch,
			outbox: this.#outbox.entries().map((entry) => ({ id: entry.id, frame: entry.frame })),
		};
	}

	/**
	 * Records whose token is in use. The first token after a restore must belong to the saved
	 * session's sub: another user's token starts clean (their publishes are not sent as this user).
	 */
	#adoptSub(token: string): void {
		const sub = readTokenClaims(token).sub ?? null;
		const restored = this.#restoredSub;
		this.#restoredSub = undefined;
		if (restored !== undefined && restored !== null && sub !== null && restored !== sub) {
			this.#log("info", "the saved session belongs to another sub; starting a fresh one");
			this.#resume = null;
			this.#ordering = new OrderedDelivery(this.#options.after);
			dropRestored(this.#outbox);
		}
		if (sub !== this.#sub) {
			this.#sub = sub;
			this.#writer.saveSoon();
		}
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
