/**
 * Copying a room to its next home during a migration (CONTRACT.md §8, §14): every table of the
 * room's SQLite that is not the runtime's own (`_cf_*`, `sqlite_*`) — baton's and the app's, BLOBs
 * intact — and its key-value storage, in pages of at most about {@link TRANSFER_PAGE_BYTES} (a
 * single larger row still moves, alone in its page). What belongs to the object rather than the
 * room stays: its schema version, its stats counters, the meta keys that name the object.
 *
 * The old home is frozen while it is read, so a page cursor (a step of the plan and a position in
 * it) is stable across calls. The app's tables are created at the new home from their own DDL
 * before their rows arrive; their indexes, triggers and views only after every row, so a trigger
 * does not fire again for rows it already acted on at the old home.
 */
import { SCHEMA_TABLE } from "../schema-migrations.ts";
import { MetaKey } from "./meta.ts";
import { BatonTable } from "./schema.ts";

/** About the most a page carries (bytes of row values or key-value entries). */
export const TRANSFER_PAGE_BYTES = 1_000_000;
/** `storage.put` takes at most 128 entries at once. */
const KV_PAGE_KEYS = 128;

/** baton's tables whose rows move, in this order (before the app's). */
const BATON_ROOM_TABLES = [
	BatonTable.Meta,
	BatonTable.Messages,
	BatonTable.Dedupe,
	BatonTable.Sessions,
	BatonTable.Presence,
	BatonTable.Keys,
	BatonTable.Bans,
] as const;
/** baton's tables of the object, not the room: a new generation starts its own. */
const OBJECT_TABLES: ReadonlySet<string> = new Set([SCHEMA_TABLE, BatonTable.Counters, BatonTable.Closes]);
/** Meta keys that name the object (set by the import itself), not the room. */
const OBJECT_META_KEYS: ReadonlySet<string> = new Set([MetaKey.Room, MetaKey.Home, MetaKey.Gen, MetaKey.Seq, MetaKey.Moving, MetaKey.MovedTo]);

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const isBaton = (name: string): boolean => name.startsWith("_baton_");

/**
 * A key-value entry's value: anything structured clone carries (the runtime stores values that
 * way). Typed loosely on purpose: RPC types cannot follow a recursive type.
 */
export type KvValue = object | string | number | bigint | boolean | null;

export interface TransferCursor {
	/** Index into the copy's plan. */
	step: number;
	/** Where the step stands: the last rowid, row offset or key-value key sent. */
	after: number | string | null;
}

export const TRANSFER_START: TransferCursor = { step: 0, after: null };

export interface SchemaObject {
	type: string;
	name: string;
	/** The table an index or trigger belongs to (its own name for a table). */
	tbl_name: string;
	sql: string;
}

export type TransferChunk =
	/** The app's tables, created at the new home (or emptied there if they exist). */
	| { kind: "schema"; tables: SchemaObject[] }
	| { kind: "rows"; table: string; columns: string[]; rows: SqlStorageValue[][] }
	| { kind: "kv"; entries: Array<[string, KvValue]> }
	/** The app's indexes, triggers and views, after every row. */
	| { kind: "ddl"; objects: SchemaObject[] };

export interface TransferPage {
	chunk: TransferChunk;
	/** Where the next page starts; null when the copy is complete. */
	next: TransferCursor | null;
}

type Step = { kind: "schema" } | { kind: "rows"; table: string; withoutRowid: boolean } | { kind: "kv" } | { kind: "ddl" };

/** Objects of the room's schema that are neither the runtime's nor internal to SQLite, in creation order. */
function schemaObjects(sql: SqlStorage): SchemaObject[] {
	return sql
		.exec<{ type: string; name: string; tbl_name: string; sql: string }>(
			"SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND substr(name, 1, 4) <> '_cf_' AND substr(name, 1, 7) <> 'sqlite_' ORDER BY rowid",
		)
		.toArray();
}

const isVirtual = (o: SchemaObject): boolean => /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(o.sql);
const isWithoutRowid = (o: SchemaObject): boolean => /\bWITHOUT\s+ROWID\s*;?\s*$/i.test(o.sql);

/** The app's tables, in creation order (a virtual table moves by its own shadow tables). */
function appTables(objects: readonly SchemaObject[]): SchemaObject[] {
	return objects.filter((o) => o.type === "table" && !isBaton(o.name));
}

function plan(sql: SqlStorage): Step[] {
	const objects = schemaObjects(sql);
	const rows: Step[] = [
		...BATON_ROOM_TABLES.map((table) => ({ kind: "rows", table, withoutRowid: false }) as const),
		...appTables(objects)
			.filter((o) => !isVirtual(o))
			.map((o) => ({ kind: "rows", table: o.name, withoutRowid: isWithoutRowid(o) }) as const),
	];
	return [{ kind: "schema" }, ...rows, { kind: "kv" }, { kind: "ddl" }];
}

interface Column {
	name: string;
	type: string;
	pk: number;
	hidden: number;
	[key: string]: SqlStorageValue;
}

/** Columns that can be written (generated columns cannot), and whether the rowid must travel on its own. */
function writableColumns(sql: SqlStorage, table: string, withoutRowid: boolean): { columns: string[]; withRowid: boolean } {
	const info = sql.exec<Column>("SELECT name, type, pk, hidden FROM pragma_table_xinfo(?)", table).toArray();
	const keys = info.filter((c) => c.pk > 0);
	// An INTEGER PRIMARY KEY column is the rowid: it moves as that column.
	const aliased = keys.length === 1 && keys[0]?.type.toUpperCase() === "INTEGER";
	return { columns: info.filter((c) => c.hidden === 0).map((c) => c.name), withRowid: !withoutRowid && !aliased };
}

/** A key-value entry's size, about: strings by length, binary by bytes, anything else 8. */
function entryBytes(key: string, value: unknown): number {
	let bytes = key.length;
	const visit = (v: unknown, depth: number): void => {
		if (depth > 64) return;
		if (typeof v === "string") bytes += v.length;
		else if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) bytes += v.byteLength;
		else if (v instanceof Map) {
			for (const [k, x] of v) {
				visit(k, depth + 1);
				visit(x, depth + 1);
			}
		} else if (v instanceof Set || Array.isArray(v)) {
			for (const x of v) visit(x, depth + 1);
		} else if (typeof v === "object" && v !== null) {
			for (const [k, x] of Object.entries(v)) {
				bytes += k.length;
				visit(x, depth + 1);
			}
		} else bytes += 8;
	};
	visit(value, 0);
	return bytes;
}

/** Rows whose sizes are looked at per page, at most (their sizes only: cheap). */
const SIZED_ROWS = 4096;

/**
 * One page of a table's rows. The sizes of the next rows are read first (`length()` of every
 * column: bytes of a BLOB, characters of a text), so the page holds as many as fit and never
 * more than one row beyond the budget — and no statement is left open over the table.
 */
function exportRows(sql: SqlStorage, step: Extract<Step, { kind: "rows" }>, after: number | string | null): { chunk: TransferChunk; after: number | null } {
	const { columns, withRowid } = writableColumns(sql, step.table, step.withoutRowid);
	const table = quote(step.table);
	const list = columns.map(quote).join(", ");
	const size = columns.map((c) => `coalesce(length(${quote(c)}), 0)`).join(" + ") || "0";
	const position = typeof after === "number" ? after : step.withoutRowid ? 0 : Number.MIN_SAFE_INTEGER;
	// A frozen table reads the same way every time: WITHOUT ROWID tables page by offset.
	const sizes = step.withoutRowid
		? sql.exec<{ r: number; n: number }>(`SELECT 0 AS r, ${size} AS n FROM ${table} LIMIT ? OFFSET ?`, SIZED_ROWS, position).toArray()
		: sql
				.exec<{ r: number; n: number }>(`SELECT rowid AS r, ${size} AS n FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT ?`, position, SIZED_ROWS)
				.toArray();
	let take = 0;
	let bytes = 0;
	while (take < sizes.length && (take === 0 || bytes < TRANSFER_PAGE_BYTES)) {
		bytes += (sizes[take]?.n ?? 0) + 16;
		take++;
	}
	const rows: SqlStorageValue[][] = step.withoutRowid
		? [...sql.exec(`SELECT ${list} FROM ${table} LIMIT ? OFFSET ?`, take, position).raw()]
		: [...sql.exec(`SELECT rowid, ${list} FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT ?`, position, take).raw()];
	const done = take === sizes.length && sizes.length < SIZED_ROWS;
	const last = step.withoutRowid ? position + take : Number(sizes[take - 1]?.r ?? position);
	const values = step.withoutRowid ? rows : rows.map((r) => (withRowid ? r : r.slice(1)));
	return {
		chunk: { kind: "rows", table: step.table, columns: withRowid ? ["rowid", ...columns] : columns, rows: values },
		after: done || take === 0 ? null : last,
	};
}

async function exportKv(storage: DurableObjectStorage, after: number | string | null): Promise<{ chunk: TransferChunk; after: string | null }> {
	const listed = await storage.list<KvValue>({ limit: KV_PAGE_KEYS, ...(typeof after === "string" ? { startAfter: after } : {}) });
	const entries: Array<[string, KvValue]> = [];
	let bytes = 0;
	for (const [key, value] of listed) {
		if (entries.length > 0 && bytes >= TRANSFER_PAGE_BYTES) break;
		entries.push([key, value]);
		bytes += entryBytes(key, value);
	}
	const cut = entries.length < listed.size || listed.size === KV_PAGE_KEYS;
	return { chunk: { kind: "kv", entries }, after: cut ? (entries[entries.length - 1]?.[0] ?? null) : null };
}

/** One page of the copy, read from the frozen old home. */
export async function exportChunk(storage: DurableObjectStorage, cursor: TransferCursor): Promise<TransferPage> {
	const steps = plan(storage.sql);
	const step = steps[cursor.step];
	if (step === undefined) throw new RangeError(`no transfer step ${cursor.step}`);
	const advance = (after: number | string | null): TransferCursor | null =>
		after !== null ? { step: cursor.step, after } : cursor.step + 1 < steps.length ? { step: cursor.step + 1, after: null } : null;
	switch (step.kind) {
		case "schema":
			return { chunk: { kind: "schema", tables: appTables(schemaObjects(storage.sql)) }, next: advance(null) };
		case "rows": {
			const { chunk, after } = exportRows(storage.sql, step, cursor.after);
			return { chunk, next: advance(after) };
		}
		case "kv": {
			const { chunk, after } = await exportKv(storage, cursor.after);
			return { chunk, next: advance(after) };
		}
		case "ddl": {
			const objects = schemaObjects(storage.sql).filter((o) => o.type !== "table" && !isBaton(o.name) && !isBaton(o.tbl_name));
			return { chunk: { kind: "ddl", objects }, next: advance(null) };
		}
	}
}

function exists(sql: SqlStorage, name: string): boolean {
	return sql.exec("SELECT 1 FROM sqlite_master WHERE name = ?", name).toArray().length > 0;
}

/** Writes one page at the new home (rows with the same key replaced: a page may come twice). */
export async function importChunk(storage: DurableObjectStorage, chunk: TransferChunk): Promise<void> {
	const sql = storage.sql;
	switch (chunk.kind) {
		case "schema":
			storage.transactionSync(() => {
				for (const t of chunk.tables) {
					if (exists(sql, t.name)) sql.exec(`DELETE FROM ${quote(t.name)}`);
					else sql.exec(t.sql);
				}
			});
			return;
		case "rows": {
			if (OBJECT_TABLES.has(chunk.table)) return;
			const insert = `INSERT OR REPLACE INTO ${quote(chunk.table)} (${chunk.columns.map(quote).join(", ")}) VALUES (${chunk.columns.map(() => "?").join(", ")})`;
			const keyAt = chunk.table === BatonTable.Meta ? chunk.columns.indexOf("key") : -1;
			storage.transactionSync(() => {
				for (const row of chunk.rows) {
					if (keyAt >= 0 && OBJECT_META_KEYS.has(String(row[keyAt]))) continue;
					sql.exec(insert, ...row);
				}
			});
			return;
		}
		case "kv":
			if (chunk.entries.length > 0) await storage.put(Object.fromEntries(chunk.entries));
			return;
		case "ddl":
			storage.transactionSync(() => {
				for (const o of chunk.objects) if (!exists(sql, o.name)) sql.exec(o.sql);
			});
			return;
	}
}

/**
 * Empties what the copy fills: baton's room tables but its meta (the caller sets what it needs),
 * every app object and every key-value entry. Before an import, and on the old home once it moved
 * (it only forwards from then on, so nothing stale is ever served from it).
 */
export async function wipeCopy(storage: DurableObjectStorage): Promise<void> {
	const sql = storage.sql;
	storage.transactionSync(() => {
		for (const table of BATON_ROOM_TABLES) if (table !== BatonTable.Meta) sql.exec(`DELETE FROM ${table}`);
		const app = schemaObjects(sql).filter((o) => !isBaton(o.name));
		// Dependents first: triggers and views, then indexes, then tables newest first.
		for (const type of ["trigger", "view", "index"])
			for (const o of app.filter((x) => x.type === type)) sql.exec(`DROP ${type.toUpperCase()} IF EXISTS ${quote(o.name)}`);
		for (const o of app.filter((x) => x.type === "table").reverse()) sql.exec(`DROP TABLE IF EXISTS ${quote(o.name)}`);
	});
	for (;;) {
		const keys = [...(await storage.list({ limit: KV_PAGE_KEYS })).keys()];
		if (keys.length === 0) break;
		await storage.delete(keys);
	}
}
