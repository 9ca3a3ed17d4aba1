/**
 * The poll's own table in the room's SQLite: one row per voter. It is the app's table (no
 * `_baton_` prefix), so it moves with the room when the room migrates to another region
 * (CONTRACT §14) and survives restarts like baton's own log.
 */
import { OPTIONS, type PollOption, type Tally } from "./poll.ts";

/** Creates the table if this room has none yet (every wake: cheap, and idempotent). */
export function createVoteTable(sql: SqlStorage): void {
	sql.exec(`CREATE TABLE IF NOT EXISTS poll_votes (
		sub TEXT PRIMARY KEY,
		option TEXT NOT NULL,
		publish_id TEXT NOT NULL,
		voted_at INTEGER NOT NULL
	)`);
}

/** Whether the vote was counted, or the option this sub had voted for already. */
export type RecordedVote = { ok: true } | { ok: false; previous: string };

/**
 * Counts `sub`'s vote unless it has one. Hooks are at least once (after a crash before the
 * message was stored, its re-sent publish runs the hook again): the same publish id voting the
 * same option again is that re-run, and is accepted again rather than refused as a double vote.
 */
export function recordVote(sql: SqlStorage, sub: string, option: PollOption, publishId: string, now: number): RecordedVote {
	const existing = sql.exec<{ option: string; publish_id: string }>("SELECT option, publish_id FROM poll_votes WHERE sub = ?", sub).toArray()[0];
	if (existing !== undefined) return existing.publish_id === publishId && existing.option === option ? { ok: true } : { ok: false, previous: existing.option };
	sql.exec("INSERT INTO poll_votes (sub, option, publish_id, voted_at) VALUES (?, ?, ?, ?)", sub, option, publishId, now);
	return { ok: true };
}

/** The votes per option, counted from the table. */
export function readTally(sql: SqlStorage): Tally {
	const counts = Object.fromEntries(OPTIONS.map((option) => [option, 0])) as Record<PollOption, number>;
	for (const row of sql.exec<{ option: string; n: number }>("SELECT option, count(*) AS n FROM poll_votes GROUP BY option")) {
		if ((OPTIONS as readonly string[]).includes(row.option)) counts[row.option as PollOption] = row.n;
	}
	return { counts, total: Object.values(counts).reduce((sum, n) => sum + n, 0) };
}
