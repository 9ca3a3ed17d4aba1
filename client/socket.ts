import type { CloseCode } from "../protocol/index.ts";
import { stopWatching } from "./close-watch.ts";
import type { WebSocketConstructor, WebSocketLike } from "./socket-types.ts";

export type { SocketCloseEvent, SocketMessageEvent, WebSocketConstructor, WebSocketLike } from "./socket-types.ts";

/** `WebSocket.OPEN`, spelled out because the constructor may be a fake without static constants. */
export const SOCKET_OPEN = 1;

/** The global `WebSocket` constructor, when the runtime has one. */
export function globalWebSocket(): WebSocketConstructor | undefined {
	const candidate: unknown = Reflect.get(globalThis, "WebSocket");
	return typeof candidate === "function" ? (candidate as WebSocketConstructor) : undefined;
}

/** Sends a text frame if the socket is open; false when it could not be sent. */
export function sendText(ws: WebSocketLike, text: string): boolean {
	if (ws.readyState !== SOCKET_OPEN) return false;
	try {
		ws.send(text);
		return true;
	} catch {
		return false;
	}
}

/** The two codes the SDK closes with: the goodbye of `room.close()`, or "replacing this socket". */
export type ClientCloseCode = typeof CloseCode.Normal | typeof CloseCode.ClientReconnect;

/**
 * Closes a socket the SDK is done with: 1000 only for `room.close()` (a goodbye: the room sends
 * `leave` at once, CONTRACT.md §12), 4000 when the SDK drops it to replace it (the room treats it
 * as a loss and keeps the presence grace). Never 1006 (reserved, RFC 6455 §7.4.1) nor 4008 (the
 * server's word); the SDK's `close` event says what happened.
 */
export function closeSocket(ws: WebSocketLike, code: ClientCloseCode, reason: string): void {
	stopWatching(ws);
	if (ws.readyState >= 2) return;
	try {
		ws.close(code, reason);
	} catch {
		// Already closing.
	}
}
