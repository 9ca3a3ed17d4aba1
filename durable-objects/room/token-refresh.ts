/**
 * In-band `auth` (CONTRACT.md §4, §5, §11): a valid token of the same sub, still granting this
 * room, replaces the connection's token — its expiry and its publish rights; anything else is
 * answered `unauthorized` and the connection keeps its old token and identity.
 */
import { ErrorCode } from "../../protocol/error-codes.ts";
import { MessageType } from "../../protocol/messages.ts";
import { mayPublish, roomAllowed } from "../../src/core/auth/roles.ts";
import { verifierFor } from "../../src/core/auth/verify.ts";
import { liveAttachment, writeAttachment } from "./attachment.ts";
import type { RoomState } from "./state.ts";

export type Refresh = { kind: "replaced"; exp: number } | { kind: "refused" } | { kind: "gone" };

/** Answers an `auth` frame: replaced (with the new expiry, seconds), refused, or the socket is gone. */
export async function refreshToken(state: RoomState, ws: WebSocket, token: string): Promise<Refresh> {
	const verified = await verifierFor(state.config)(token);
	// Read after the await: other frames of this socket may have been handled meanwhile.
	const a = liveAttachment(ws);
	if (a === null) return { kind: "gone" };
	if (!verified.ok || verified.claims.sub !== a.sub || !roomAllowed(verified.claims, state.roomName)) {
		state.sockets.send(ws, { type: MessageType.Error, code: ErrorCode.Unauthorized, message: "token refused; the connection keeps its current token" });
		return { kind: "refused" };
	}
	a.exp = verified.claims.exp;
	a.mayPublish = mayPublish(verified.claims, state.roomName);
	writeAttachment(ws, a);
	state.sockets.send(ws, { type: MessageType.AuthOk, exp: verified.claims.exp });
	return { kind: "replaced", exp: a.exp };
}
