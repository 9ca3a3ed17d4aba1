import type { SocketCloseEvent, WebSocketLike } from "./socket-types.ts";

/**
 * How often an open socket's `readyState` is looked at. A close frame from the server turns it
 * CLOSING at once on every platform, but no event says so (docs/protocol.md §16).
 */
export const CLOSING_CHECK_MS = 250;

const SOCKET_CLOSING = 2;

/** Sockets the SDK closed itself: CLOSING there is its own doing. */
const closedBySdk = new WeakSet<WebSocketLike>();
/** The poll of each watched socket, so that the SDK's own close stops it at once. */
const polls = new WeakMap<WebSocketLike, () => void>();

/**
 * Calls `listener` once with the close of `ws`, as soon as the platform shows its code. `ws` (the
 * package) reads the server's close frame at once but fires `close` only when the TCP connection
 * ends, which the local runtime delays by ~10 s for a client that never sent a frame
 * (docs/protocol.md §16): once such a socket turns CLOSING without the SDK having closed it, the
 * code `ws` read is reported within {@link CLOSING_CHECK_MS}. Where the platform keeps the code
 * to itself until `close` (browsers, Node's own WebSocket) nothing is guessed: a made-up 1006
 * would turn a 4003 or 4011 (stop) into a resume.
 */
export function watchClose(ws: WebSocketLike, listener: (event: SocketCloseEvent) => void): void {
	let done = false;
	let timer: ReturnType<typeof setTimeout> | undefined;
	const stopPolling = (): void => {
		clearTimeout(timer);
		polls.delete(ws);
	};
	const finish = (event: SocketCloseEvent): void => {
		if (done) return;
		done = true;
		stopPolling();
		listener(event);
	};
	const check = (): void => {
		if (ws.readyState !== SOCKET_CLOSING) {
			timer = setTimeout(check, CLOSING_CHECK_MS);
			return;
		}
		// `ws` records the frame before it turns CLOSING: if nothing is recorded now, this platform
		// (or a close without a frame) leaves it to the `close` event.
		const frame = receivedCloseFrame(ws);
		if (frame === null) stopPolling();
		else finish(frame);
	};
	ws.addEventListener("close", (event) => finish({ code: event.code, reason: event.reason }));
	// A close frame can only follow the opening handshake: no poll while connecting.
	ws.addEventListener("open", () => {
		if (done || closedBySdk.has(ws)) return;
		polls.set(ws, stopPolling);
		timer = setTimeout(check, CLOSING_CHECK_MS);
	});
}

/**
 * The SDK is closing `ws` itself: CLOSING is then its own doing, not the server's. The `close`
 * event still reaches the listener.
 */
export function stopWatching(ws: WebSocketLike): void {
	closedBySdk.add(ws);
	polls.get(ws)?.();
}

/**
 * The close frame a socket of the `ws` package has received, if any. `ws` reads and answers it as
 * soon as it arrives but fires `close` only when the TCP connection ends; until then what it read
 * is kept in `_closeFrameReceived`, `_closeCode` and `_closeMessage` (ws 8, lib/websocket.js,
 * `receiverOnConclude`). No public API has it. Browsers, undici and Workers have no such fields.
 */
function receivedCloseFrame(ws: WebSocketLike): SocketCloseEvent | null {
	if (Reflect.get(ws, "_closeFrameReceived") !== true) return null;
	const code: unknown = Reflect.get(ws, "_closeCode");
	if (typeof code !== "number") return null;
	const message: unknown = Reflect.get(ws, "_closeMessage");
	return { code, reason: message instanceof Uint8Array ? new TextDecoder().decode(message) : "" };
}
