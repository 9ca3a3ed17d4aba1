/**
 * Which session a resume token continues (CONTRACT.md §4): its own, alive, of the same sub, in
 * this room — anything else (another sub, another room, expired, altered) is null, a fresh
 * session, never an error.
 */
import { verifyResumeToken } from "../../src/core/auth/resume-token.ts";
import { legacyResumeKey } from "./resume-key.ts";
import { parseResumeToken, sameSecret } from "./resume-secret.ts";
import { isResumableRow } from "./sessions.ts";
import type { RoomState } from "./state.ts";

export function resumableSession(state: RoomState, token: string, expect: { room: string; sub: string }, now: number): string | null | Promise<string | null> {
	const parsed = parseResumeToken(token);
	if (parsed !== null) {
		const row = state.sessions.get(parsed.session);
		if (row === undefined || row.secret === null || !sameSecret(row.secret, parsed.secret)) return null;
		return isResumableRow(row, expect.sub, now) ? parsed.session : null;
	}
	return legacySession(state, token, expect, now);
}

/**
 * A signed token from before resume secrets: honoured for a session that has no secret yet
 * (resuming gives it one, and its client a new token), so a deploy does not cost clients their
 * sessions. Only such tokens pay for an HMAC check.
 */
async function legacySession(state: RoomState, token: string, expect: { room: string; sub: string }, now: number): Promise<string | null> {
	const key = legacyResumeKey(state.ctx.storage.sql, state.config.jwtSecret);
	if (key === null) return null;
	const session = await verifyResumeToken(token, key, expect, now);
	if (session === null) return null;
	const row = state.sessions.get(session);
	return row !== undefined && row.secret === null && isResumableRow(row, expect.sub, now) ? session : null;
}
