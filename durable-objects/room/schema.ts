/**
 * The room's SQLite schema, as numbered migrations (../schema-migrations.ts). Everything a
 * connection or the log needs after an eviction or a crash lives here (or in the socket
 * attachment), never only in memory. baton's tables carry the `_baton_` prefix: every other table
 * of the room's SQLite belongs to the app (CONTRACT.md §14).
 */
import { type Migration, migrate } from "../schema-migrations.ts";

/** The tables baton keeps, by what they hold. */
export const BatonTable = {
	/** Small key/value facts: seq head, home region, room name, migration marks. */
	Meta: "_baton_meta",
	/**
	 * The message log, pruned to between HISTORY_LIMIT and twice that, within HISTORY_MAX_BYTES.
	 * `bytes`: the UTF-8 size of each message frame; `cum`: the running total up to its row.
	 */
	Messages: "_baton_messages",
	/** Dedupe records: (scope, client id) → seq. */
	Dedupe: "_baton_dedupe",
	/** Resumable sessions. */
	Sessions: "_baton_sessions",
	/** Presence: one row per sub that is here or within its leave grace. */
	Presence: "_baton_presence",
	/** Keys the room made itself (the resume-token key when BATON_JWT_SECRET is unset). */
	Keys: "_baton_keys",
	/** Kicked subs refused until a time. */
	Bans: "_baton_bans",
	/** Stats counters of this object (wakeups, alarm runs, heartbeat timeouts), one row. */
	Counters: "_baton_counters",
	/** Closes sent by this object, by code. */
	Closes: "_baton_closes",
} as const;
export type BatonTable = (typeof BatonTable)[keyof typeof BatonTable];

/** Table names before version 2, oldest schema first. */
const UNPREFIXED = ["meta", "messages", "dedupe", "sessions", "presence", "keys", "bans", "counters", "closes"] as const;

export const ROOM_MIGRATIONS: readonly Migration[] = [
	{
		version: 1,
		why: "the schema as rooms had it before it was versioned (created if missing, so older rooms keep theirs)",
		statements: [
			"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value)",
			"CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, sender TEXT NOT NULL, data TEXT NOT NULL, ts INTEGER NOT NULL)",
			// HTTP publishes use session "http:<sub>", server publishes "server:<from>".
			"CREATE TABLE IF NOT EXISTS dedupe (session TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (session, id))",
			"CREATE INDEX IF NOT EXISTS dedupe_ts ON dedupe (ts)",
			// Alive while connected (expires_at NULL), and for RESUME_WINDOW_MS after their last close.
			"CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, sub TEXT NOT NULL, name TEXT NOT NULL, expires_at INTEGER)",
			"CREATE TABLE IF NOT EXISTS presence (sub TEXT PRIMARY KEY, name TEXT NOT NULL, joined_at INTEGER NOT NULL, leave_at INTEGER)",
			"CREATE TABLE IF NOT EXISTS keys (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
			"CREATE TABLE IF NOT EXISTS bans (sub TEXT PRIMARY KEY, until INTEGER NOT NULL)",
			// One row, so an idle room's alarm run — the wake it causes included — writes one row (rows written are billed).
			"CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY CHECK (id = 1), wakeups INTEGER NOT NULL, alarm_runs INTEGER NOT NULL, heartbeat_timeouts INTEGER NOT NULL)",
			"CREATE TABLE IF NOT EXISTS closes (code INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
		],
	},
	{
		version: 2,
		why: "baton's tables take the _baton_ prefix, renamed in place: every other name belongs to the app",
		statements: [
			...UNPREFIXED.map((t) => `ALTER TABLE ${t} RENAME TO _baton_${t}`),
			"DROP INDEX IF EXISTS dedupe_ts",
			"CREATE INDEX _baton_dedupe_ts ON _baton_dedupe (ts)",
		],
	},
	{
		version: 3,
		why: "a session's resume token is <session>.<secret>: the secret is kept in its row (NULL for sessions made before, whose signed tokens still resume them once)",
		statements: ["ALTER TABLE _baton_sessions ADD COLUMN secret TEXT"],
	},
	{
		version: 4,
		why: "each message's frame size and the running total, for HISTORY_MAX_BYTES and the slow-consumer account (CONTRACT.md §13); rows from before are counted by MessageLog.recountBytes()",
		statements: [
			"ALTER TABLE _baton_messages ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0",
			"ALTER TABLE _baton_messages ADD COLUMN cum INTEGER NOT NULL DEFAULT 0",
		],
	},
];

/** The schema version that added the byte counts: storage older than it is recounted once. */
export const BYTE_COUNTS_VERSION = 4;

/** Brings a room's storage to the current schema (on every construction; a no-op once there). */
export function applySchema(storage: DurableObjectStorage): number {
	return migrate(storage, ROOM_MIGRATIONS);
}
