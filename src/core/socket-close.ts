import { clampCloseReason, isSendableCloseCode } from "../../protocol/close-codes.ts";

/**
 * The one way the server closes a socket: never a reserved code (1005/1006/1015 are for
 * observers only, RFC 6455 §7.4.1), reasons clamped to 123 bytes, and never throws (closing a
 * socket the peer already dropped is not an error).
 */
export function closeSocket(ws: WebSocket, code: number, reason?: object | string): void {
	const safeCode = isSendableCloseCode(code) ? code : 1011;
	const text = reason === undefined ? "" : typeof reason === "string" ? reason : JSON.stringify(reason);
	try {
		ws.close(safeCode, clampCloseReason(text));
	} catch {
		// Already closed or closing.
	}
}
