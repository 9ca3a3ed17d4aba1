/**
 * baton's client SDK: resumable room connections with in-order, exactly-once delivery and
 * exactly-once publishes across reconnects, drains, migrations and region failover.
 * Dependency-free; runs in browsers, Workers and Node (≥ 22, or 20 with the `ws` package).
 * Every option, event and error: docs/sdk.md.
 */
import { RoomConnection } from "./connection.ts";
import type { ConnectOptions } from "./types.ts";

/**
 * Opens a connection to a room and keeps it alive: reconnects per the close code (CONTRACT.md
 * §6), resumes the session, replays what was missed, re-sends unacknowledged publishes, and
 * refreshes a token function's tokens in band before they expire. Dialing starts on the next
 * microtask, so handlers attached right after this call see every event. `T` types message data
 * (`publish(data: T)`, `message` events); it is the app's word, not checked on the wire.
 *
 * @throws TypeError for options that could never work (bad room name, bad URL, no WebSocket).
 *
 * @example
 * import { connect, CloseCode } from "baton-rooms/client";
 *
 * type Chat = { text: string };
 * const room = connect<Chat>({
 *   url: "https://rooms.example.com",          // or endpoints: [primary, fallback]
 *   room: "lobby",
 *   token: async () => (await fetch("/token")).text(), // refreshed in band before exp
 * });
 * room.on("message", (m) => render(m.seq, m.from, m.data.text));
 * room.on("gap", () => refetchEverything());
 * room.on("close", ({ code, willReconnect }) => {
 *   if (!willReconnect && code === CloseCode.Forbidden) showAccessRevoked();
 * });
 * await room.ready;
 * const { seq, dup } = await room.publish({ text: "hi" });
 * room.close();
 */
export function connect<T = unknown>(options: ConnectOptions): Room<T> {
	return new RoomConnection<T>(options);
}

/** A room connection, as returned by {@link connect}. */
export type Room<T = unknown> = RoomConnection<T>;

export type {
	MessageFrame,
	PresenceCountFrame,
	PresenceEntry,
	PresenceFrame,
	PresenceStateFrame,
	WelcomeFrame,
} from "../protocol/index.ts";
export { CloseCode, type CloseReaction, closeReaction, ErrorCode } from "../protocol/index.ts";
export { type Backoff, type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
export { RoomConnection } from "./connection.ts";
export { BatonError, type BatonErrorCode, type BatonErrorDetails, ClientErrorCode } from "./errors.ts";
export { DEFAULT_HISTORY_PAGE, type FetchLike, type HistoryOptions, type HistoryPage, MAX_HISTORY_PAGE, type ResponseLike } from "./history.ts";
export { DEFAULT_STREAM_BUFFER, type MessageStream, type MessagesOptions } from "./message-stream.ts";
export { NETWORK_PROBE_MS, type NetworkEvents } from "./network.ts";
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_MAX_BUFFERED } from "./options.ts";
export type { PublishResult } from "./outbox.ts";
export type { PersistOptions, StorageLike } from "./persist.ts";
export type { PresenceCount } from "./presence.ts";
export { DEFAULT_PRESENCE_PAGE, MAX_PRESENCE_PAGE, type PresencePage, type PresencePageOptions } from "./presence-page.ts";
export { MIN_REFRESH_INTERVAL_MS, REFRESH_LEAD_MS } from "./refresh.ts";
export type { SignalLike } from "./signal.ts";
export type { SocketCloseEvent, SocketMessageEvent, WebSocketConstructor, WebSocketLike } from "./socket.ts";
export type {
	AckEvent,
	ConnectOptions,
	DialFailedEvent,
	GapEvent,
	LogFn,
	LogLevel,
	PendingPublish,
	PublishOptions,
	RoomCloseEvent,
	RoomErrorEvent,
	RoomEvents,
	RoomState,
	StateChange,
	TokenSource,
} from "./types.ts";
