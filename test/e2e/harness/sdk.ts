/**
 * Helpers for e2e tests that drive the client SDK itself: event waits with a deadline and a
 * diagnostic, and a `ws`-backed socket a test can freeze to play a dead network or a dead page.
 */
import WebSocket from "ws";
import type { Room, RoomEvents, SocketCloseEvent, SocketMessageEvent, WebSocketLike } from "../../../client/index.ts";

/**
 * The next `type` event of `room` whose payload satisfies `pred`; rejects after `timeoutMs` with
 * `what` and the room's state in the message.
 */
export function nextEvent<T, K extends keyof RoomEvents<T>>(
	room: Room<T>,
	type: K,
	pred: (payload: RoomEvents<T>[K]) => boolean = () => true,
	timeoutMs = 15_000,
	what: string = String(type),
): Promise<RoomEvents<T>[K]> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			off();
			reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; state ${room.state}, lastSeq ${room.lastSeq}, pending ${room.pendingPublishes}`));
		}, timeoutMs);
		const off = room.on(type, (payload) => {
			if (!pred(payload)) return;
			clearTimeout(timer);
			off();
			resolve(payload);
		});
	});
}

/** Every payload of `type` the room emits from now on. */
export function recordEvents<T, K extends keyof RoomEvents<T>>(room: Room<T>, type: K): RoomEvents<T>[K][] {
	const out: RoomEvents<T>[K][] = [];
	room.on(type, (payload) => out.push(payload));
	return out;
}

/**
 * A `ws` socket behind the SDK's WebSocket interface that a test can cut off: `freezeIncoming()`
 * drops every frame from the server (acks, pongs); `kill()` drops everything both ways, close
 * events included, and tears the TCP connection down — the page is gone, the SDK never learns.
 */
export class FreezableSocket implements WebSocketLike {
	readonly inner: WebSocket;
	#incoming = true;
	#dead = false;

	constructor(url: string, protocols?: string | string[]) {
		this.inner = new WebSocket(url, protocols);
		// Errors are followed by close events; without a listener `ws` would throw.
		this.inner.on("error", () => undefined);
	}

	get readyState(): number {
		return this.inner.readyState;
	}

	freezeIncoming(): void {
		this.#incoming = false;
	}

	kill(): void {
		this.#incoming = false;
		this.#dead = true;
		this.inner.terminate();
	}

	send(data: string): void {
		if (!this.#dead) this.inner.send(data);
	}

	close(code?: number, reason?: string): void {
		if (!this.#dead) this.inner.close(code, reason);
	}

	addEventListener(type: "message", listener: (event: SocketMessageEvent) => void): void;
	addEventListener(type: "close", listener: (event: SocketCloseEvent) => void): void;
	addEventListener(type: "open" | "error", listener: () => void): void;
	addEventListener(
		type: "message" | "close" | "open" | "error",
		listener: ((event: SocketMessageEvent) => void) | ((event: SocketCloseEvent) => void) | (() => void),
	): void {
		switch (type) {
			case "message": {
				const onMessage = listener as (event: SocketMessageEvent) => void;
				this.inner.on("message", (data, isBinary) => {
					if (this.#incoming) onMessage({ data: isBinary ? data : data.toString() });
				});
				return;
			}
			case "close": {
				const onClose = listener as (event: SocketCloseEvent) => void;
				this.inner.on("close", (code, reason) => {
					if (!this.#dead) onClose({ code, reason: reason.toString() });
				});
				return;
			}
			default: {
				const onEvent = listener as () => void;
				this.inner.on(type, () => {
					if (!this.#dead) onEvent();
				});
			}
		}
	}
}

/** A WebSocket constructor for the SDK that records every FreezableSocket it makes, newest last. */
export function freezableSockets(): { WebSocket: new (url: string, protocols?: string | string[]) => FreezableSocket; sockets: FreezableSocket[] } {
	const sockets: FreezableSocket[] = [];
	class Recorded extends FreezableSocket {
		constructor(url: string, protocols?: string | string[]) {
			super(url, protocols);
			sockets.push(this);
		}
	}
	return { WebSocket: Recorded, sockets };
}

/** Resolves once `room` has delivered every message up to `seq` (at once if it already has). */
export async function reachSeq<T>(room: Room<T>, seq: number, timeoutMs = 15_000): Promise<void> {
	if (room.lastSeq >= seq) return;
	await nextEvent(room, "message", (m) => m.seq >= seq, timeoutMs, `delivery up to seq ${seq}`);
}
