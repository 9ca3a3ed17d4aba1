/**
 * The slice of the WebSocket API the SDK uses. Browsers, Workers, Node ≥ 22 and the `ws`
 * package all provide it; tests pass a fake.
 */
export interface WebSocketLike {
	/** 0 connecting, 1 open, 2 closing, 3 closed. */
	readonly readyState: number;
	send(data: string): void;
	close(code?: number, reason?: string): void;
	addEventListener(type: "open" | "message" | "close" | "error", listener: (event: SocketEvent) => void): void;
}

/** The fields of open/message/close/error events the SDK reads (each event has the ones of its kind). */
export interface SocketEvent {
	/** `message`: a string for text frames. */
	readonly data?: unknown;
	/** `close`: the close code. */
	readonly code?: number;
	/** `close`: the close reason. */
	readonly reason?: string;
}

/** A WebSocket constructor: the global one, `ws`'s, or a test fake. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** `WebSocket.OPEN`, spelled out because the constructor may be a fake without static constants. */
export const SOCKET_OPEN = 1;

/** The global `WebSocket` constructor, when the runtime has one. */
export function globalWebSocket(): WebSocketConstructor | undefined {
	const candidate: unknown = Reflect.get(globalThis, "WebSocket");
	return typeof candidate === "function" ? (candidate as WebSocketConstructor) : undefined;
}
