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
	/** Set (1) while presence is in count mode (CONTRACT.md §12); absent in event mode. */
	PresenceCountMode: "presence_count_mode",
	/** The count the last `presence_count` frame carried, so a change is still sent after an eviction. */
	PresenceCountSent: "presence_count_sent",
	/** The message log's epoch (CONTRACT.md §13), made with the log and moved with it. */
	Epoch: "epoch",
} as const;
export type MetaKey = (typeof MetaKey)[keyof typeof MetaKey];

/**
 * Values are read once per wake and then served from memory: every write goes through `set`, and
 * a connect or a publish reads several of these (room, home, presence mode, the seq head), each a
 * SQLite statement otherwise.
 */

type MetaValue = number | string | null;

export class Meta {
	readonly #cache = new Map<MetaKey, MetaValue>();

	constructor(private readonly sql: SqlStorage) {}

	#read(key: MetaKey): MetaValue {
		const hit = this.#cache.get(key);
		if (hit !== undefined) return hit;
		const row = this.sql.exec<{ value: number | string | null }>("SELECT value FROM _baton_meta WHERE key = ?", key).toArray()[0];
		const value = row?.value ?? null;
		this.#cache.set(key, value);
		return value;
	}

	getNumber(key: MetaKey): number | null {
		const value = this.#read(key);
		if (value === null) return null;
		const n = Number(value);
		return Number.isFinite(n) ? n : null;
	}

	getString(key: MetaKey): string | null {
		const value = this.#read(key);
		return value === null ? null : String(value);
	}

	/** Drops the remembered value (a write to it was rolled back): the next read asks storage. */
	forget(key: MetaKey): void {
		this.#cache.delete(key);
	}

	set(key: MetaKey, value: MetaValue): void {
		if (value === null) this.sql.exec("DELETE FROM _baton_meta WHERE key = ?", key);
		else this.sql.exec("INSERT INTO _baton_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
		this.#cache.set(key, value);
	}
}
