/**
 * The room's SQLite schema. Everything a connection or the log needs after an eviction or a
 * crash lives here (or in the socket attachment), never only in memory.
 */
export const SCHEMA = [
	// Small key/value facts: seq head, home region, room name.
	`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value)`,
	// The message log, pruned to between HISTORY_LIMIT and twice that.
	`CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, sender TEXT NOT NULL, data TEXT NOT NULL, ts INTEGER NOT NULL)`,
	// Dedupe records: (session, client id) -> seq. HTTP publishes use session "http:<sub>".
	`CREATE TABLE IF NOT EXISTS dedupe (session TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (session, id))`,
	`CREATE INDEX IF NOT EXISTS dedupe_ts ON dedupe (ts)`,
	// Resumable sessions: alive while connected, and for RESUME_WINDOW_MS after their last close.
	`CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, sub TEXT NOT NULL, name TEXT NOT NULL, expires_at INTEGER)`,
	// Presence: one row per sub that is here or within its leave grace (leave_at set).
	`CREATE TABLE IF NOT EXISTS presence (sub TEXT PRIMARY KEY, name TEXT NOT NULL, joined_at INTEGER NOT NULL, leave_at INTEGER)`,
	// Keys the room made itself (the resume-token key when BATON_JWT_SECRET is unset); moved on migration.
	`CREATE TABLE IF NOT EXISTS keys (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	// Kicked subs refused until a time.
	`CREATE TABLE IF NOT EXISTS bans (sub TEXT PRIMARY KEY, until INTEGER NOT NULL)`,
	// The stats counters, in one row so that an idle room's alarm run — the wake it causes
	// included — updates one row (SQLite rows written are billed).
	`CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY CHECK (id = 1), wakeups INTEGER NOT NULL, alarm_runs INTEGER NOT NULL, heartbeat_timeouts INTEGER NOT NULL)`,
	// Closes sent by the room, by code.
	`CREATE TABLE IF NOT EXISTS closes (code INTEGER PRIMARY KEY, n INTEGER NOT NULL)`,
] as const;

export function applySchema(sql: SqlStorage): void {
	for (const statement of SCHEMA) sql.exec(statement);
}
