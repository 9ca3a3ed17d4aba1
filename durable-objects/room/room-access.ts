/**
 * Bans apply to every route of the room (CONTRACT.md §13): an upgrade (admission.ts) and each
 * HTTP route — room info, history, HTTP publish, presence — are refused 403 `forbidden` for a
 * banned sub alike.
 */
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { RoomState } from "./state.ts";
import type { Refused } from "./types.ts";

export function refuseBanned(state: RoomState, sub: string, now: number): Refused | null {
	return state.bans.isBanned(sub, now) ? { ok: false, code: ErrorCode.Forbidden, message: "access to this room is revoked" } : null;
}
