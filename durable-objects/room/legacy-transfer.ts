/**
 * The migration copy as the previous version of the code spoke it (before transfer.ts): a fixed
 * list of baton's tables by their old names, pages of rows with fixed columns. Kept for one
 * version of skew between an anchor and a room (a gradual deploy may pin them to different
 * versions): a new room answers an old anchor's calls, and a new anchor falls back to it when a
 * room does not know the new copy. App tables and key-value storage do not move this way.
 */

/** The previous version's table names, and where each lives now. */
export const LEGACY_TABLES = {
	messages: "_baton_messages",
	dedupe: "_baton_dedupe",
	sessions: "_baton_sessions",
	presence: "_baton_presence",
	bans: "_baton_bans",
	keys: "_baton_keys",
} as const;
export type LegacyTable = keyof typeof LEGACY_TABLES;
export const LEGACY_TABLE_NAMES = Object.keys(LEGACY_TABLES) as LegacyTable[];

/** Columns copied per table, in insert order (as the previous version sends them). */
const COLUMNS: Record<LegacyTable, readonly string[]> = {
	messages: ["seq", "id", "sender", "data", "ts"],
	dedupe: ["session", "id", "seq", "ts"],
	// `secret` (the resume secret) was added after: sent last, so a row without it still reads.
	sessions: ["id", "sub", "name", "expires_at", "secret"],
	presence: ["sub", "name", "joined_at", "leave_at"],
	bans: ["sub", "until"],
	keys: ["name", "value"],
};

/** Rows per page: 200 messages of at most MAX_MESSAGE_BYTES (64 KiB) stay under 13 MB. */
const PAGE_ROWS = 200;

export type LegacyRow = Array<string | number | null>;

export interface LegacyPage {
	rows: LegacyRow[];
	/** rowid cursor to pass back for the next page; null when the table is done. */
	next: number | null;
}

export function isLegacyTable(value: unknown): value is LegacyTable {
	return typeof value === "string" && Object.hasOwn(LEGACY_TABLES, value);
}

/** Reads one page of `table` after rowid `cursor`. */
export function exportLegacyPage(sql: SqlStorage, table: LegacyTable, cursor: number): LegacyPage {
	const cols = COLUMNS[table];
	const raw = sql
		.exec(`SELECT rowid AS _r, ${cols.join(", ")} FROM ${LEGACY_TABLES[table]} WHERE rowid > ? ORDER BY rowid LIMIT ?`, cursor, PAGE_ROWS)
		.toArray();
	const rows = raw.map((r) => cols.map((c) => normalize(r[c])));
	const last = raw[raw.length - 1];
	return { rows, next: raw.length < PAGE_ROWS || last === undefined ? null : Number(last._r) };
}

function normalize(value: SqlStorageValue | undefined): string | number | null {
	if (value === undefined || value === null) return null;
	if (typeof value === "string" || typeof value === "number") return value;
	return null;
}

/** Writes one page into `table` (replacing rows with the same key: imports may be retried). */
export function importLegacyPage(sql: SqlStorage, table: LegacyTable, rows: readonly LegacyRow[]): void {
	const all = COLUMNS[table];
	for (const row of rows) {
		// A previous version's row may lack the trailing columns added since (sessions: `secret`);
		// an importer of that version refuses the wider row, which fails that migration before its
		// flip (the room keeps serving) rather than dropping the secret.
		const cols = row.length === all.length ? all : table === "sessions" && row.length === all.length - 1 ? all.slice(0, -1) : null;
		if (cols === null) throw new Error(`bad ${table} row width`);
		sql.exec(`INSERT OR REPLACE INTO ${LEGACY_TABLES[table]} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`, ...row);
	}
}
