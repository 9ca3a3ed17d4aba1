/**
 * Numbered SQLite schema migrations for baton's Durable Objects. With deferred code updates an
 * object can wake on new code with storage written by old code (CONTRACT.md §7), so a schema
 * change is a migration with a number, applied once, in order, each in one transaction with the
 * version it reaches — never only a `CREATE TABLE IF NOT EXISTS`, which cannot change a table
 * that exists. Migrations only go forward; a version newer than the code knows is left alone.
 */
import { log } from "../src/core/log.ts";

export interface Migration {
	version: number;
	/** Why it exists (kept with the code, for whoever reads the storage later). */
	why: string;
	statements: readonly string[];
}

/** The row that holds the schema version (created by the first migration run). */
export const SCHEMA_TABLE = "_baton_schema";

export function schemaVersion(sql: SqlStorage): number {
	sql.exec(`CREATE TABLE IF NOT EXISTS ${SCHEMA_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`);
	const row = sql.exec<{ version: number }>(`SELECT version FROM ${SCHEMA_TABLE} WHERE id = 1`).toArray()[0];
	return row?.version ?? 0;
}

/** Brings `storage` to the latest of `migrations` (sorted by version); returns the version reached. */
export function migrate(storage: DurableObjectStorage, migrations: readonly Migration[]): number {
	const sql = storage.sql;
	let version = schemaVersion(sql);
	const latest = migrations[migrations.length - 1]?.version ?? 0;
	if (version > latest) {
		log.warn("schema_newer_than_code", { version, latest });
		return version;
	}
	const from = version;
	for (const m of migrations) {
		if (m.version <= version) continue;
		storage.transactionSync(() => {
			for (const statement of m.statements) sql.exec(statement);
			sql.exec(`INSERT INTO ${SCHEMA_TABLE} (id, version) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version`, m.version);
		});
		version = m.version;
	}
	// New storage starts at 0 and says nothing; storage older code wrote is worth a line.
	if (from > 0 && version > from) log.info("schema_migrated", { from, to: version });
	return version;
}
