// The WebSocket shapes the SDK relies on, in a module of their own so that both socket.ts and
// close-watch.ts can use them without importing each other.

/**
 * The slice of the WebSocket API the SDK uses. Browsers, Workers, Node ≥ 22 and the `ws`
 * package all provide it; tests pass a fake.
 */
export interface WebSocketLike {
	/** 0 connecting, 1 open, 2 closing, 3 closed. */
	readonly readyState: number;
	send(data: string): void;
	close(code?: number, reason?: string): void;
	addEventListener(type: "message", listener: (event: SocketMessageEvent) => void): void;
	addEventListener(type: "close", listener: (event: SocketCloseEvent) => void): void;
	addEventListener(type: "open" | "error", listener: () => void): void;
}

/** The part of a `message` event the SDK reads. */
export interface SocketMessageEvent {
	/** A string for text frames (binary frames are not part of baton.v1 and are ignored). */
	readonly data: unknown;
}

/** The part of a `close` event the SDK reads. */
export interface SocketCloseEvent {
	readonly code: number;
	readonly reason: string;
}

/** A WebSocket constructor: the global one, `ws`'s, or a test fake. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;
