import type { MessageFrame, PresenceFrame, WelcomeFrame } from "../protocol/index.ts";
import type { BackoffOptions } from "./backoff.ts";
import type { BatonErrorCode } from "./errors.ts";
import type { WebSocketConstructor } from "./socket.ts";

/**
 * Where a room connection is. `connecting` until the first `welcome`; `open` while a welcomed
 * socket is up; `reconnecting` between losing one and the next `welcome`; `closed` for good.
 */
export type RoomState = "connecting" | "open" | "reconnecting" | "closed";

/** An access token, or a function that fetches one (called at start and again after a 4001). */
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
	/** The access token (a JWT), or a function returning one; the function is called again after a 4001. */
	token: TokenSource;
	/** WebSocket constructor; defaults to the global one (browsers, Workers, Node ≥ 22). Node 20: pass `ws`'s. */
	WebSocket?: WebSocketConstructor;
	/** Replay messages with seq greater than this on the first connect (e.g. a lastSeq saved earlier). */
	after?: number;
	/** Backoff window for reconnects and publish retries; defaults 250 ms base, 10 s cap. */
	backoff?: BackoffOptions;
	/** How long a connect may take to reach `welcome` before it counts as failed, in ms. Default 10 000. */
	connectTimeout?: number;
	/** Receives log lines; silent by default. */
	onLog?: LogFn;
}

/** Options of `room.publish()`. */
export interface PublishOptions {
	/** Client message id, 1–64 characters, for idempotent retries by the app. Generated when left out. */
	id?: string;
}

/** Payload of the `state` event. */
export interface StateChange {
	from: RoomState;
	to: RoomState;
}

/** Payload of the `error` event. */
export interface RoomErrorEvent {
	code: BatonErrorCode;
	message: string;
	/** The close code behind the error, when a close caused it. */
	closeCode?: number;
}

/** Payload of the `close` event: fired each time a socket ends, and once with `willReconnect: false` when the room closes for good. */
export interface RoomCloseEvent {
	/** The close code (a local fault is reported as 4008 heartbeat timeout, 1006 connect timeout). */
	code: number;
	/** The close reason as sent (often JSON such as `{"retryIn":2000}`), or the local cause. */
	reason: string;
	/** False when the room is now `closed` for good. */
	willReconnect: boolean;
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

/** Every event a room emits, with its payload. */
export interface RoomEvents {
	/** The server's first frame on each (re)connect. */
	welcome: WelcomeFrame;
	/** A room message, delivered once and in seq order across reconnects. */
	message: MessageFrame;
	/** A `sub` joined or left. */
	presence: PresenceFrame;
	/** The state changed. */
	state: StateChange;
	/** Something the app should know about: a terminal close, a server error without a pending publish. */
	error: RoomErrorEvent;
	/** A socket ended. */
	close: RoomCloseEvent;
	/** Part of the history was lost; refetch state. */
	gap: GapEvent;
}
