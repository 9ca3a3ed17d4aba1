import type { MessageFrame, PresenceFrame, PresenceStateFrame, WelcomeFrame } from "../protocol/index.ts";
import type { BackoffOptions } from "./backoff.ts";
import type { AppErrorCode, BatonErrorCode } from "./errors.ts";
import type { FetchLike } from "./history.ts";
import type { NetworkEvents } from "./network.ts";
import type { PersistOptions } from "./persist.ts";
import type { PresenceCount } from "./presence.ts";
import type { SignalLike } from "./signal.ts";
import type { WebSocketConstructor } from "./socket.ts";

/**
 * Where a room connection is. `connecting` until the first `welcome`; `open` while a welcomed
 * socket is up; `reconnecting` between losing one and the next `welcome`; `closed` for good.
 */
export type RoomState = "connecting" | "open" | "reconnecting" | "closed";

/**
 * An access token, or a function that fetches one. A function is called at start, again after a
 * 4001, and ahead of each token's `exp` to refresh it in band (no reconnect); a string is used as
 * is until the server refuses it.
 */
export type TokenSource = string | (() => string | Promise<string>);

/** Severity of an SDK log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Receives the SDK's log lines. Fields never contain tokens or connect URLs. */
export type LogFn = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/** Options of {@link connect}. */
export interface ConnectOptions {
	/** Gateway base URL (`http(s)://` or `ws(s)://`). Give this or `endpoints`. */
	url?: string;
	/** Gateway base URLs tried in turn: a connect failing before `welcome`, or a 1006, moves to the next. */
	endpoints?: readonly string[];
	/** Room name, `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`. */
	room: string;
	/** The access token (a JWT), or a function returning one; see {@link TokenSource}. */
	token: TokenSource;
	/** WebSocket constructor; defaults to the global one (browsers, Workers, Node ≥ 22). Node 20: pass `ws`'s. */
	WebSocket?: WebSocketConstructor;
	/** Replay messages with seq greater than this on the first connect (e.g. a lastSeq saved earlier). */
	after?: number;
	/** Backoff window for reconnects and publish retries; defaults 250 ms base, 10 s cap. */
	backoff?: BackoffOptions;
	/** How long a connect may take to reach `welcome` before it counts as failed, in ms. Default 10 000. */
	connectTimeout?: number;
	/** Aborting it closes the room, as `room.close()` does (1000); pending publishes reject with `aborted`. */
	signal?: SignalLike;
	/**
	 * Most publishes waiting for their ack at once (sent or queued while offline). One more is
	 * refused at once with `outbox_full`. Default 1000; `Infinity` for no limit.
	 */
	maxBuffered?: number;
	/**
	 * Default for `publish(…, { timeout })`, in ms: a publish not acknowledged that long after
	 * `publish()` rejects with `publish_timeout` and is never sent again. Unset: no timeout (a
	 * publish waits, across reconnects, until it is acked or the room closes).
	 */
	publishTimeout?: number;
	/**
	 * Source of `online`/`offline` events; defaults to `globalThis` in browsers, none elsewhere;
	 * `null` turns the handling off. On `online` the SDK dials at once instead of waiting out its
	 * backoff; on `offline` (and `online`) an open socket is probed with a `ping` and replaced only
	 * if it does not answer within 5 s.
	 */
	network?: NetworkEvents | null;
	/**
	 * Keep the resume token, `lastSeq` and the unacknowledged publishes in `sessionStorage` (or the
	 * given storage), so that a page reload resumes the session with nothing lost or duplicated.
	 * Off by default.
	 */
	persist?: boolean | PersistOptions;
	/** The `fetch` used by `room.history()`; defaults to the global one. */
	fetch?: FetchLike;
	/** Receives log lines; silent by default. */
	onLog?: LogFn;
}

/** Options of `room.publish()`. */
export interface PublishOptions {
	/** Client message id, 1–64 characters, for idempotent retries by the app. Generated when left out. */
	id?: string;
	/**
	 * Aborting it gives the publish up: the promise rejects with `aborted` and the SDK never sends
	 * it again. If it had not been sent yet it is never stored (`maybeStored: false`); if it had,
	 * the room may already have stored it — at most once — and it then arrives as a `message` with
	 * this id like any other (`maybeStored: true`).
	 */
	signal?: SignalLike;
	/** Overrides {@link ConnectOptions.publishTimeout} for this publish, in ms. Same semantics as `signal`. */
	timeout?: number;
}

/** A publish waiting for its ack, as listed by `room.pending`. */
export interface PendingPublish<T = unknown> {
	id: string;
	data: T;
	/** It has been sent at least once (it may be stored; the ack is awaited). */
	sent: boolean;
	/** It was restored from a saved session (`persist`) after a reload. */
	restored: boolean;
}

/** Payload of the `state` event. */
export interface StateChange {
	from: RoomState;
	to: RoomState;
}

/** Payload of the `error` event. */
export interface RoomErrorEvent {
	/** baton's code, or the app's own (an `onPublish` rejection). */
	code: BatonErrorCode | AppErrorCode;
	message: string;
	/** The close code behind the error, when a close caused it. */
	closeCode?: number;
	/** The publish the error is about, for a publish restored by `persist` (no caller holds its promise). */
	publishId?: string;
}

/**
 * Payload of the `close` event. It fires once for every socket that had been welcomed when it
 * ended, and once (with `willReconnect: false`) when the room closes for good — the same event
 * when the last socket was open. Dials that fail before their `welcome` are reported by
 * `dial_failed` instead, so an outage of many retries is one `close`, not one per retry.
 */
export interface RoomCloseEvent {
	/**
	 * The close code (a local fault: 4008 heartbeat timeout, 1006 connect timeout, 4000 for a
	 * socket the SDK replaced itself).
	 */
	code: number;
	/** The close reason as sent (often JSON such as `{"retryIn":2000}`), or the local cause. */
	reason: string;
	/** False when the room is now `closed` for good. */
	willReconnect: boolean;
	/** True when the socket that ended had been welcomed (open); false when a dial ended before its welcome. */
	opened: boolean;
}

/** Payload of the `dial_failed` event: a dial ended before its `welcome`, and another is scheduled. */
export interface DialFailedEvent {
	/** The close code, or the local one (1006 for a connect timeout or a refused connection). */
	code: number;
	reason: string;
	/** The number of the next dial, counting redials since the last welcome (1 = the first). */
	attempt: number;
	/** When the next dial starts, in ms from now. */
	retryIn: number;
}

/** Payload of the `ack` event: a publish was stored (its promise resolves with the same values). */
export interface AckEvent {
	id: string;
	seq: number;
	dup: boolean;
}

/**
 * Payload of the `gap` event: messages after `after` up to `next - 1` are gone from the server's
 * history (or its log restarted), so the app must refetch its state. Delivery continues at `next`.
 */
export interface GapEvent {
	/** The seq the SDK asked to resume after. */
	after: number;
	/** The seq the next `message` event will carry. */
	next: number;
}

/** Every event a room emits, with its payload; `T` is the type of message data. */
export interface RoomEvents<T = unknown> {
	/** The server's first frame on each (re)connect. */
	welcome: WelcomeFrame;
	/** A room message, delivered once and in seq order across reconnects. */
	message: MessageFrame<T>;
	/** A `sub` joined or left (event mode, CONTRACT.md §12). */
	presence: PresenceFrame;
	/** The full presence list, on the return from count mode to event mode (§12). */
	presence_state: PresenceStateFrame;
	/** The number of subs present changed (from any source: welcome, join/leave, count frames). */
	presence_count: PresenceCount;
	/** The state changed. */
	state: StateChange;
	/** Something the app should know about: a terminal close, a server error without a pending publish. */
	error: RoomErrorEvent;
	/** A welcomed socket ended, or the room closed for good; see {@link RoomCloseEvent}. */
	close: RoomCloseEvent;
	/** A dial failed before its welcome and another is scheduled. */
	dial_failed: DialFailedEvent;
	/** A publish was acknowledged (restored ones included). */
	ack: AckEvent;
	/** Part of the history was lost; refetch state. */
	gap: GapEvent;
}
