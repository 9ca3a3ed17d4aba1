/**
 * A room's side of a migration (CONTRACT.md §8), run by its anchor: the old home freezes (no
 * publish, no new session), its state is copied to a new generation (transfer.ts), and once the
 * anchor's pointer flipped the old home tells its sockets to move (4010), wipes its copy and
 * forwards every later call.
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import { log } from "../../src/core/log.ts";
import { parseRoomTarget, type RoomTarget } from "../../src/core/routing.ts";
import type { Disconnects } from "./disconnect.ts";
import { MetaKey } from "./meta.ts";
import type { RoomState } from "./state.ts";
import { wipeCopy } from "./transfer.ts";

/** Where this room's state went, if it moved: stale routes are forwarded there, never served here. */
export function movedTo(state: RoomState): RoomTarget | null {
	return parseRoomTarget(state.meta.getString(MetaKey.MovedTo));
}

/** Step 1 (old home): refuse publishes (`room_moving`) so the copy is consistent. Returns the seq head and the log's epoch. */
export function freeze(state: RoomState, room: string): { seq: number; epoch: string } {
	state.identify(room, null);
	if (!state.moving) state.meta.set(MetaKey.Moving, Date.now());
	return { seq: state.log.head(), epoch: state.log.epoch() };
}

/** Rolls back an interrupted migration: this home keeps serving. */
export function unfreeze(state: RoomState): void {
	state.meta.set(MetaKey.Moving, null);
}

/** Step 3 (new home): start from nothing, as generation `gen` of `room` homed in `home`. */
export async function importBegin(state: RoomState, room: string, home: string, gen: number): Promise<void> {
	await wipeCopy(state.ctx.storage);
	state.presence.forgetCount();
	state.bans.forget();
	state.log.forget();
	// The epoch comes with the copied meta (or importFinish's argument), never from this object's past.
	state.meta.set(MetaKey.Epoch, null);
	state.meta.set(MetaKey.Room, room);
	state.meta.set(MetaKey.Home, home);
	state.meta.set(MetaKey.Gen, gen);
	state.meta.set(MetaKey.Seq, 0);
	state.meta.set(MetaKey.Moving, null);
	state.meta.set(MetaKey.MovedTo, null);
}

/**
 * Completes an import: the seq head and epoch, and every session/presence row starts its resume
 * window and leave grace now, so clients that resume here at once neither lose their session nor
 * flap.
 */
export function importFinish(state: RoomState, seq: number, epoch: string | null): void {
	const now = Date.now();
	state.meta.set(MetaKey.Seq, seq);
	// The log moves with its epoch (§13): clients resuming here continue the same log. The copied
	// rows get their byte counts here (they are derived, so they are not copied).
	if (epoch !== null) state.meta.set(MetaKey.Epoch, epoch);
	state.log.recountBytes();
	state.sessions.startAllWindows(now + state.config.resumeWindowMs);
	state.presence.startAllGraces(now + state.config.heartbeatIntervalMs);
	state.presence.forgetCount();
	state.bans.forget();
	state.log.forget();
	state.feed.settleAfterImport();
}

/**
 * Step 5 (old home, after the pointer flipped): tell every socket to move (4010), then wipe the
 * stale copy and forward from now on. Idempotent: a repeated call moves nobody.
 */
export async function completeMove(state: RoomState, disconnects: Disconnects, target: RoomTarget): Promise<{ moved: number }> {
	const live = state.sockets.live();
	state.meta.set(MetaKey.MovedTo, JSON.stringify(target));
	for (const [ws, a] of live) disconnects.close(ws, a, CloseCode.RoomMoved, { home: target.home, retryIn: 0 });
	await wipeCopy(state.ctx.storage);
	state.presence.forgetCount();
	state.bans.forget();
	state.log.forget();
	log.info("moved", { room: state.roomName, to: target.home, gen: target.gen, moved: live.length });
	return { moved: live.length };
}
