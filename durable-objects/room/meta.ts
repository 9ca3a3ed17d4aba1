/** Typed access to the room's `meta` key/value table. */
export const MetaKey = {
	Room: "room",
	Home: "home",
	Seq: "seq",
	/** Set while a migration freezes publishes (ms of freeze start). */
	Moving: "moving",
	/** Set when the room moved away: JSON `{"home","gen"}` of the object that now holds it. */
	MovedTo: "moved_to",
	/** Generation of this room object (0 for a room's first home; +1 per migration). */
	Gen: "gen",
	/** The message log's epoch (CONTRACT.md §13), made with the log and moved with it. */
	Epoch: "epoch",
} as const;
export type MetaKey = (typeof MetaKey)[keyof typeof MetaKey];

export class Meta {
	constructor(private readonly sql: SqlStorage) {}

	getNumber(key: MetaKey): number | null {
		const row = this.sql.exec<{ value: number | string | null }>("SELECT value FROM _baton_meta WHERE key = ?", key).toArray()[0];
		if (row === undefined || row.value === null) return null;
		const n = Number(row.value);
		return Number.isFinite(n) ? n : null;
	}

	getString(key: MetaKey): string | null {
		const row = this.sql.exec<{ value: number | string | null }>("SELECT value FROM _baton_meta WHERE key = ?", key).toArray()[0];
		return row === undefined || row.value === null ? null : String(row.value);
	}

	set(key: MetaKey, value: number | string | null): void {
		if (value === null) this.sql.exec("DELETE FROM _baton_meta WHERE key = ?", key);
		else this.sql.exec("INSERT INTO _baton_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
	}
}
