/**
 * When a server's close reaches a `ws` client. `ws` parses the close frame (and answers it) as
 * soon as it arrives, but emits `close` only once the TCP connection has ended; the frame's arrival
 * is its receiver's `conclude` event (ws 8, lib/websocket.js), which no public API exposes.
 */
import { EventEmitter } from "node:events";
import WebSocket from "ws";

export interface CloseSeen {
	code: number;
	/** `performance.now()` when it was seen. */
	at: number;
}

/** The server's close frame, once the socket (open by now or later) receives it. */
export function closeFrameOf(ws: WebSocket): Promise<CloseSeen> {
	return new Promise((resolve, reject) => {
		const listen = (): void => {
			const receiver: unknown = Reflect.get(ws, "_receiver");
			if (receiver instanceof EventEmitter) receiver.once("conclude", (code: number) => resolve({ code, at: performance.now() }));
			else reject(new Error("this ws version keeps no _receiver"));
		};
		if (ws.readyState === WebSocket.OPEN) listen();
		else ws.once("open", listen);
	});
}

/** The socket's `close` event. */
export function closeEventOf(ws: WebSocket): Promise<CloseSeen> {
	return new Promise((resolve) => ws.once("close", (code) => resolve({ code, at: performance.now() })));
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
	});
	try {
		return await Promise.race([promise, deadline]);
	} finally {
		clearTimeout(timer);
	}
}

/** A `ws` WebSocket that also records its close frame. */
export interface FrameTimedSocket extends WebSocket {
	readonly closeFrame: Promise<CloseSeen>;
}

/**
 * A `WebSocket` constructor for the SDK's option: `ws` itself (so the SDK sees `ws`'s own
 * fields), recording every socket it made and its close frame, newest last. With `dropPings` the
 * SDK's `ping` frames never leave: the socket stays a client that never sent a frame.
 */
export function frameTimedWebSocket(opts: { dropPings?: boolean } = {}): {
	WebSocket: new (url: string, protocols?: string | string[]) => FrameTimedSocket;
	sockets: FrameTimedSocket[];
} {
	const sockets: FrameTimedSocket[] = [];
	class Timed extends WebSocket implements FrameTimedSocket {
		readonly closeFrame: Promise<CloseSeen>;
		constructor(url: string, protocols?: string | string[]) {
			super(url, protocols);
			this.closeFrame = closeFrameOf(this);
			sockets.push(this);
		}
		override send(data: string): void {
			if (opts.dropPings === true && data === "ping") return;
			super.send(data);
		}
	}
	return { WebSocket: Timed, sockets };
}
