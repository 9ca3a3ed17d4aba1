/**
 * Closing slow consumers (CONTRACT.md §13) once the log grew: the connections the send accounts
 * name (send-account.ts) get 4013 `{"code":"slow_consumer"}` through the one close path.
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { liveAttachment } from "./attachment.ts";
import type { Disconnects } from "./disconnect.ts";
import type { RoomState } from "./state.ts";

const REASON = { code: ErrorCode.SlowConsumer };

export function closeSlowConsumers(state: RoomState, disconnects: Disconnects, headCum: number): void {
	const limits = { perConnection: state.config.sendBufferMaxBytes, room: state.config.sendBufferRoomMaxBytes };
	for (const ws of state.accounts.overLimit(headCum, limits)) closeSlowConsumer(disconnects, ws);
}

/** Closes one connection 4013: over its account, or its replay fell behind the log (replay.ts). */
export function closeSlowConsumer(disconnects: Disconnects, ws: WebSocket): void {
	const a = liveAttachment(ws);
	if (a !== null) disconnects.close(ws, a, CloseCode.SlowConsumer, REASON);
}
