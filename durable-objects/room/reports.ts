/** What the room's read-only RPCs answer (CONTRACT.md §3, §9): room info, history pages, admin stats. */
import { encodePresenceCursor } from "../../src/core/presence-cursor.ts";
import type { RoomState } from "./state.ts";
import type { HistoryPage, PresencePage, RoomInfo, RoomStats } from "./types.ts";

/** `GET /v1/rooms/:room`: presence bounded as in a `welcome` (CONTRACT.md §12). */
export function roomInfo(state: RoomState, room: string): RoomInfo {
	return { room, home: state.home, seq: state.log.head(), connections: state.sockets.liveCount(), ...state.feed.view() };
}

/** `GET /v1/rooms/:room/presence`: one page sorted by sub; `after` is the last sub of the page before (the cursor's). */
export function presencePage(state: RoomState, after: string | null, limit: number): PresencePage {
	const { entries, more } = state.presence.page(after, limit);
	const last = entries[entries.length - 1];
	return { presence: entries, count: state.presence.count(), next: more && last !== undefined ? encodePresenceCursor(last.sub) : null };
}

/**
 * `GET /v1/rooms/:room/messages`, as the JSON body of a {@link HistoryPage}. Built from the stored
 * frames as text, without parsing `data`: an RPC answer of objects would be serialized twice
 * (structured clone, then JSON) and hold every message as objects at each step.
 */
export function historyPage(state: RoomState, after: number, limit: number): string {
	const messages = Array.from(state.log.frames(after, limit), (f) => f.text).join(",");
	return `{"messages":[${messages}],"seq":${state.log.head()},"oldest":${state.log.oldest() ?? "null"}}`;
}

/** Admin stats. */
export async function roomStats(state: RoomState, room: string): Promise<RoomStats> {
	const now = Date.now();
	const { log, counters } = state;
	return {
		room,
		home: state.home,
		seq: log.head(),
		oldest: log.oldest(),
		connections: state.sockets.liveCount(),
		sessions: state.sessions.countAlive(now),
		wakeups: counters.wakeups(),
		alarmRuns: counters.alarmRuns(),
		alarm: await state.ctx.storage.getAlarm(),
		closes: counters.closes(),
		heartbeatTimeouts: counters.heartbeatTimeouts(),
	};
}
