/**
 * Whether an authenticated upgrade may become a connection of this room (CONTRACT.md §9 "which
 * refusal wins": forbidden (ban, `onConnect`) → room_full → too_many_connections → room_moving).
 * The gateway turns a refusal into an in-band close (§3 "Refusing an upgrade").
 */
import { ErrorCode } from "../../protocol/error-codes.ts";
import { errorResponse, RETRY_IN_HEADER } from "../../src/core/http-errors.ts";
import { log } from "../../src/core/log.ts";
import { type ConnectDecision, type ConnectingClient, rejectionOf, runHook } from "./hooks.ts";
import { retryInFrom } from "./retry.ts";
import { refuseBanned } from "./room-access.ts";
import { subTag } from "./sockets.ts";
import type { RoomState } from "./state.ts";

/** `retryIn` of a refused upgrade: a base plus a spread, so refused clients do not return together. */
const ROOM_FULL_RETRY = { baseMs: 1000, spreadMs: 4000 };
const ROOM_MOVING_RETRY = { baseMs: 500, spreadMs: 1000 };
const TOO_MANY_RETRY = { baseMs: 1000, spreadMs: 4000 };

export interface Refusal {
	code: ErrorCode;
	message: string;
	retryIn?: number;
}

/** Who is asking, and the session its resume token names (verified with the room's key). */
export interface Candidate {
	client: ConnectingClient;
	resumeSession: string | null;
}

export type ConnectHook = (conn: ConnectingClient) => ConnectDecision | Promise<ConnectDecision>;

/**
 * The admission decision, in §9's order: a ban, then the app's `onConnect` (null when the room
 * has none), then capacity and the migration freeze — read after the hook's await, so they hold
 * for the moment the connection is made. Null admits.
 */
export async function admit(state: RoomState, who: Candidate, onConnect: ConnectHook | null, hookTimeoutMs: number): Promise<Refusal | null> {
	const banned = refuseBanned(state, who.client.sub, Date.now());
	if (banned !== null) return { code: banned.code, message: banned.message };
	const refused = onConnect === null ? null : await consult(who.client, onConnect, hookTimeoutMs);
	return refused ?? refuseForRoom(state, who, Date.now());
}

/**
 * Asks `onConnect`. Its rejection is a plain 4003 `forbidden` for the client (its own code and
 * message go to the room's log only); a hook that throws or does not answer in time fails the
 * upgrade with 1011 `internal`: fail closed, the client retries with backoff.
 */
async function consult(client: ConnectingClient, onConnect: ConnectHook, hookTimeoutMs: number): Promise<Refusal | null> {
	const outcome = await runHook("onConnect", client.room, hookTimeoutMs, () => onConnect(client));
	if (!outcome.ok) return { code: ErrorCode.Internal, message: "the room could not decide on the connection" };
	const reject = rejectionOf(outcome.value);
	if (reject === null) return null;
	log.info("connect_rejected", { room: client.room, sub: client.sub, code: reject.code, message: reject.message });
	return { code: ErrorCode.Forbidden, message: "the room refused the connection" };
}

function refuseForRoom(state: RoomState, who: Candidate, now: number): Refusal | null {
	const replacing = who.resumeSession !== null && state.sockets.ofSession(who.client.sub, who.resumeSession).length > 0;
	if (state.sockets.liveCount() - (replacing ? 1 : 0) >= state.config.maxConnectionsPerRoom) {
		return { code: ErrorCode.RoomFull, message: "the room is full", retryIn: retryInFrom(ROOM_FULL_RETRY) };
	}
	// A resume replacing its own session's socket does not count twice (that socket is this sub's).
	if (state.sockets.live(subTag(who.client.sub)).length - (replacing ? 1 : 0) >= state.config.maxConnectionsPerSub) {
		return { code: ErrorCode.TooManyConnections, message: "this sub holds as many connections as it may", retryIn: retryInFrom(TOO_MANY_RETRY) };
	}
	// While a migration copies this room, a session created here would miss the copy and be
	// unknown at the next home (its client would come back as a stranger). New sessions are
	// told to retry shortly (1013); sessions that exist here, and so are in the copy, resume.
	if (state.moving && !(who.resumeSession !== null && state.sessions.isResumable(who.resumeSession, who.client.sub, now))) {
		return { code: ErrorCode.RoomMoving, message: "the room is moving to another region", retryIn: retryInFrom(ROOM_MOVING_RETRY) };
	}
	return null;
}

/** A refused upgrade as the gateway expects it: the JSON error plus the `retryIn` to close with. */
export function refusalResponse(refusal: Refusal): Response {
	if (refusal.retryIn === undefined) return errorResponse(refusal.code, refusal.message);
	const retryIn = refusal.retryIn;
	return errorResponse(refusal.code, refusal.message, { headers: { [RETRY_IN_HEADER]: String(retryIn), "Retry-After": String(Math.ceil(retryIn / 1000)) } });
}
