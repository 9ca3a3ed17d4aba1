/**
 * baton's client SDK: resumable room connections with in-order, exactly-once delivery and
 * exactly-once publishes across reconnects, drains, migrations and region failover.
 * Dependency-free; runs in browsers, Workers and Node (≥ 22, or 20 with the `ws` package).
 */
import { RoomConnection } from "./connection.ts";
import type { ConnectOptions } from "./types.ts";

/**
 * Opens a connection to a room and keeps it alive: reconnects per the close code (CONTRACT.md
 * §6), resumes the session, replays what was missed, and re-sends unacknowledged publishes.
 * Dialing starts on the next microtask, so handlers attached right after this call see every
 * event.
 *
 * @throws TypeError for options that could never work (bad room name, bad URL, no WebSocket).
 *
 * @example
 * import { connect, CloseCode } from "baton/client";
 *
 * const room = connect({
 *   url: "https://rooms.example.com",          // or endpoints: [primary, fallback]
 *   room: "lobby",
 *   token: async () => (await fetch("/token")).text(), // called again after a 4001
 * });
 * room.on("message", (m) => render(m.seq, m.from, m.data));
 * room.on("gap", () => refetchEverything());
 * room.on("close", ({ code, willReconnect }) => {
 *   if (!willReconnect && code === CloseCode.Forbidden) showAccessRevoked();
 * });
 * const { seq, dup } = await room.publish({ text: "hi" });
 * room.close();
 */
export function connect(options: ConnectOptions): Room {
	return new RoomConnection(options);
}

/** A room connection, as returned by {@link connect}. */
export type Room = RoomConnection;

export type { MessageFrame, PresenceEntry, PresenceFrame, WelcomeFrame } from "../protocol/index.ts";
export { CloseCode, type CloseReaction, closeReaction, ErrorCode } from "../protocol/index.ts";
export { type Backoff, type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
export { RoomConnection } from "./connection.ts";
export { BatonError, type BatonErrorCode, ClientErrorCode } from "./errors.ts";
export { DEFAULT_CONNECT_TIMEOUT_MS } from "./options.ts";
export type { PublishResult } from "./outbox.ts";
export type { SocketCloseEvent, SocketMessageEvent, WebSocketConstructor, WebSocketLike } from "./socket.ts";
export type {
	ConnectOptions,
	GapEvent,
	LogFn,
	LogLevel,
	PublishOptions,
	RoomCloseEvent,
	RoomErrorEvent,
	RoomEvents,
	RoomState,
	StateChange,
	TokenSource,
} from "./types.ts";
