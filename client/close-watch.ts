import { CloseCode } from "../protocol/index.ts";
import type { SocketCloseEvent, WebSocketLike } from "./socket.ts";

/**
 * How often an open socket's `readyState` is looked at. A close frame from the server turns it
 * CLOSING at once on every platform, but no event says so (docs/protocol.md §16).
 */
export const CLOSING_CHECK_MS = 250;

/**
 * How long a socket may stay CLOSING, when the SDK did not close it and the platform shows no
 * close code, before the SDK stops waiting for its `close` event and reports 1006. Chromium fires
 * `close` with the server's code 2 s after the close frame when the TCP connection lingers; this
 * is above that, so there the real code wins. Node's own WebSocket (undici) waits for TCP.
 */
export const CLOSING_GRACE_MS = 3_000;

const SOCKET_CLOSING = 2;

/** Sockets the SDK closed itself: CLOSING there is its own doing. */
const closedBySdk = new WeakSet<WebSocketLike>();
/** The poll of each watched socket, so that the SDK's own close stops it at once. */
const polls = new WeakMap<WebSocketLike, () => void>();

/**
 * Calls `listener` once with the close of `ws` as soon as the platform shows it, rather than only
 * when its `close` event fires. Locally the runtime keeps the TCP connection of a client that never
 * sent a frame open after a server close, and `ws` and browsers fire `close` only once TCP ends
 * (docs/protocol.md §16): from the moment the socket turns CLOSING without the SDK having closed
 * it, the code `ws` has read from the close frame is reported at once; on a platform that keeps the
 * code to itself, 1006 is reported after {@link CLOSING_GRACE_MS} unless `close` came first.
 */
export function watchClose(ws: WebSocketLike, listener: (event: SocketCloseEvent) => void): void {
	let done = false;
	let closingSince: number | null = null;
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
		if (ws.readyState === SOCKET_CLOSING) {
			const frame = receivedCloseFrame(ws);
			closingSince ??= Date.now();
			if (frame !== null) finish(frame);
			else if (Date.now() - closingSince >= CLOSING_GRACE_MS) finish({ code: CloseCode.Abnormal, reason: "" });
			if (done) return;
		}
		timer = setTimeout(check, CLOSING_CHECK_MS);
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
