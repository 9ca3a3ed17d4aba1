/**
 * Copying a room's durable state to its next home during a migration (CONTRACT.md §8): the log,
 * seq, dedupe records, sessions, presence, bans and the room's own keys move; per-object counters (wakeups, closes)
 * do not. Pages are bounded so no single RPC carries more than a few MB.
 */
export const TRANSFER_TABLES = ["_baton_messages", "_baton_dedupe", "_baton_sessions", "_baton_presence", "_baton_bans", "_baton_keys"] as const;
export type TransferTable = (typeof TRANSFER_TABLES)[number];

/** Columns copied per table, in insert order. */
const COLUMNS: Record<TransferTable, readonly string[]> = {
	_baton_messages: ["seq", "id", "sender", "data", "ts"],
	_baton_dedupe: ["session", "id", "seq", "ts"],
	_baton_sessions: ["id", "sub", "name", "expires_at", "secret"],
	_baton_presence: ["sub", "name", "joined_at", "leave_at"],
	_baton_bans: ["sub", "until"],
	_baton_keys: ["name", "value"],
};

/** Columns every exporter sends (those added later are optional on import). */
const MIN_COLUMNS: Record<TransferTable, number> = {
	_baton_messages: 5,
	_baton_dedupe: 4,
	_baton_sessions: 4,
	_baton_presence: 4,
	_baton_bans: 2,
	_baton_keys: 2,
};

/** Rows per page: 200 messages of at most MAX_MESSAGE_BYTES (64 KiB) stay under 13 MB. */
export const TRANSFER_PAGE_ROWS = 200;

export type TransferRow = Array<string | number | null>;

export interface TransferPage {
	rows: TransferRow[];
	/** rowid cursor to pass back for the next page; null when the table is done. */
	next: number | null;
}

export function isTransferTable(value: unknown): value is TransferTable {
	return typeof value === "string" && (TRANSFER_TABLES as readonly string[]).includes(value);
}

/** Reads one page of `table` after rowid `cursor`. */
export function exportPage(sql: SqlStorage, table: TransferTable, cursor: number, limit = TRANSFER_PAGE_ROWS): TransferPage {
	const cols = COLUMNS[table];
	const raw = sql.exec(`SELECT rowid AS _r, ${cols.join(", ")} FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT ?`, cursor, limit).toArray();
	const rows = raw.map((r) => cols.map((c) => normalize(r[c])));
	const last = raw[raw.length - 1];
	return { rows, next: raw.length < limit || last === undefined ? null : Number(last._r) };
}

function normalize(value: SqlStorageValue | undefined): string | number | null {
	if (value === undefined || value === null) return null;
	if (typeof value === "string" || typeof value === "number") return value;
	return null;
}

/** Writes one page into `table` (replacing rows with the same key: imports may be retried). */
export function importPage(sql: SqlStorage, table: TransferTable, rows: readonly TransferRow[]): void {
	const cols = COLUMNS[table];
	const placeholders = cols.map(() => "?").join(", ");
	for (const row of rows) {
		// A page from an older home may lack columns added since (sessions.secret): they are NULL.
		if (row.length > cols.length || row.length < MIN_COLUMNS[table]) throw new Error(`bad ${table} row width`);
		const full = row.length === cols.length ? row : [...row, ...Array<null>(cols.length - row.length).fill(null)];
		sql.exec(`INSERT OR REPLACE INTO ${table} (${cols.join(", ")}) VALUES (${placeholders})`, ...full);
	}
}

/** Empties every transferred table (before an import, and on the old home once it has moved). */
export function clearTransferred(sql: SqlStorage): void {
	for (const table of TRANSFER_TABLES) sql.exec(`DELETE FROM ${table}`);
}
