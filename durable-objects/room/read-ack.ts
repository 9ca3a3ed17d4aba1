/**
 * A `read` frame (CONTRACT.md §13): the connection has received everything up to `seq`, which
 * becomes its acknowledged seq — in its attachment (the caller writes it) and in the room's send
 * accounts, with the log's cumulative byte count there. Never answered.
 */
import type { Attachment } from "./attachment.ts";
import type { RoomState } from "./state.ts";

export function acknowledge(state: RoomState, ws: WebSocket, a: Attachment, seq: number): void {
	const cum = state.log.cumAt(seq);
	a.ackSeq = seq;
	a.ackCum = cum;
	state.accounts.acknowledged(ws, cum);
}
