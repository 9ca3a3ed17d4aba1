/**
 * Refusing an upgrade (CONTRACT.md §3): a browser cannot read the HTTP status of a failed
 * upgrade, so the gateway completes the handshake itself, without waking a room, and closes at
 * once with the mapped code and a `{"code":…}` reason. No other frame is sent first.
 */
import { type ErrorCode, upgradeRefusalCloseCode } from "../../protocol/error-codes.ts";
import { PROTOCOL } from "../../protocol/messages.ts";
import { log } from "../core/log.ts";
import { closeSocket } from "../core/socket-close.ts";

export function refuseUpgrade(code: ErrorCode, opts: { subprotocol: boolean; retryIn?: number; room?: string }): Response {
	const pair = new WebSocketPair();
	const [client, server] = [pair[0], pair[1]];
	server.accept();
	const closeCode = upgradeRefusalCloseCode(code);
	closeSocket(server, closeCode, opts.retryIn === undefined ? { code } : { code, retryIn: opts.retryIn });
	log.info("upgrade_refused", { room: opts.room, code: closeCode, error: code });
	const headers: Record<string, string> = opts.subprotocol ? { "Sec-WebSocket-Protocol": PROTOCOL } : {};
	return new Response(null, { status: 101, webSocket: client, headers });
}
