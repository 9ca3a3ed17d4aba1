/**
 * Presence (CONTRACT.md §5, §9, §12): one row per sub that has a live connection or is within its
 * leave grace (`leave_at` set). A sub's first live connection is its arrival; its last connection
 * gone starts the grace, and it leaves once the grace has passed without a return — or at once
 * after a goodbye (its own 1000 close). What the others are told is presence-feed.ts's business.
 *
 * The number of subs present is kept in memory, counted once per wake and then updated on every
 * insert and delete, so no connect counts the room.
 */
import { MessageType, type PresenceEntry, type PresenceFrame } from "../../protocol/messages.ts";

/** The `presence` frame announcing `entry`. */
export function presenceFrame(event: "join" | "leave", entry: PresenceEntry): PresenceFrame {
	return { type: MessageType.Presence, event, sub: entry.sub, name: entry.name };
}

interface PresenceRow {
	sub: string;
	name: string;
	leave_at: number | null;
	[key: string]: SqlStorageValue;
}

const entryOf = (r: { sub: string; name: string }): PresenceEntry => ({ sub: r.sub, name: r.name });

export class Presence {
	#count: number | null = null;
	/**
	 * The first `#headSize` subs in join order, as `first` last read them: in a big room the same
	 * sample goes into every `welcome`, so it is read once and dropped whenever it could change (an
	 * arrival while the room is that small, any departure, a rename, an import).
	 */
	#head: PresenceEntry[] | null = null;
	#headSize = 0;

	constructor(private readonly sql: SqlStorage) {}

	/** Distinct subs present (within their grace included). */
	count(): number {
		this.#count ??= this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM _baton_presence").one().n;
		return this.#count;
	}

	/** Rows were replaced behind this object's back (a migration's import): count again when asked. */
	forgetCount(): void {
		this.#count = null;
		this.#head = null;
	}

	/**
	 * Records that `sub` has a live connection. Returns true when this is an arrival (not already
	 * present, nor within its leave grace). Writes a row only when something changed.
	 */
	arrive(sub: string, name: string, now: number): boolean {
		const row = this.sql.exec<PresenceRow>("SELECT sub, name, leave_at FROM _baton_presence WHERE sub = ?", sub).toArray()[0];
		if (row === undefined) {
			this.sql.exec("INSERT INTO _baton_presence (sub, name, joined_at, leave_at) VALUES (?, ?, ?, NULL)", sub, name, now);
			if (this.#count !== null) this.#count++;
			if (this.#head !== null && this.#head.length < this.#headSize) this.#head = null;
			return true;
		}
		if (row.name !== name) this.#head = null;
		if (row.leave_at !== null || row.name !== name) this.sql.exec("UPDATE _baton_presence SET leave_at = NULL, name = ? WHERE sub = ?", name, sub);
		return false;
	}

	/** `sub`'s last connection is gone: it leaves at `leaveAt` unless it returns. */
	depart(sub: string, leaveAt: number): void {
		this.sql.exec("UPDATE _baton_presence SET leave_at = ? WHERE sub = ? AND leave_at IS NULL", leaveAt, sub);
	}

	/** `sub` said goodbye with its last connection: it leaves now. Returns it, or null if it was not here. */
	leaveNow(sub: string): PresenceEntry | null {
		const row = this.sql.exec<PresenceRow>("DELETE FROM _baton_presence WHERE sub = ? RETURNING sub, name, leave_at", sub).toArray()[0];
		if (row === undefined) return null;
		if (this.#count !== null) this.#count--;
		this.#head = null;
		return entryOf(row);
	}

	/** Starts the leave grace of everyone present (an imported copy has no sockets yet). */
	startAllGraces(leaveAt: number): void {
		this.sql.exec("UPDATE _baton_presence SET leave_at = ? WHERE leave_at IS NULL", leaveAt);
	}

	/** Removes and returns the subs whose grace has passed, earliest first. */
	takeDueLeaves(now: number): PresenceEntry[] {
		const due = this.sql
			.exec<PresenceRow>("DELETE FROM _baton_presence WHERE leave_at IS NOT NULL AND leave_at <= ? RETURNING sub, name, leave_at", now)
			.toArray()
			.sort((a, b) => (a.leave_at ?? 0) - (b.leave_at ?? 0))
			.map(entryOf);
		if (this.#count !== null) this.#count -= due.length;
		if (due.length > 0) this.#head = null;
		return due;
	}

	/** Earliest pending leave, or null. */
	nextLeaveAt(): number | null {
		const row = this.sql.exec<{ t: number | null }>("SELECT MIN(leave_at) AS t FROM _baton_presence").toArray()[0];
		return row?.t ?? null;
	}

	/**
	 * At most `limit` subs in join order; with `self`, that sub is among them (last, when the
	 * first `limit` arrivals do not include it). A bounded read: `welcome` and the info route use it.
	 */
	first(limit: number, self?: PresenceEntry): PresenceEntry[] {
		const head = this.#firstRows(limit);
		// In join order when everyone fits; otherwise the connecting sub closes the list.
		if (self === undefined || this.count() <= limit || head.some((e) => e.sub === self.sub)) return head;
		return [...head.slice(0, Math.max(0, limit - 1)), entryOf(self)];
	}

	#firstRows(limit: number): PresenceEntry[] {
		if (this.#head === null || this.#headSize !== limit) {
			this.#head = this.sql.exec<PresenceRow>("SELECT sub, name FROM _baton_presence ORDER BY rowid LIMIT ?", limit).toArray().map(entryOf);
			this.#headSize = limit;
		}
		return this.#head;
	}

	/** Everyone present, in join order (presence_state, bounded by the mode switch; and tests). */
	list(): PresenceEntry[] {
		return this.sql.exec<PresenceRow>("SELECT sub, name FROM _baton_presence ORDER BY rowid").toArray().map(entryOf);
	}

	/** Up to `limit` subs after `after` (exclusive), sorted by sub (SQLite's binary order), and whether more follow. */
	page(after: string | null, limit: number): { entries: PresenceEntry[]; more: boolean } {
		const rows =
			after === null
				? this.sql.exec<PresenceRow>("SELECT sub, name FROM _baton_presence ORDER BY sub LIMIT ?", limit + 1).toArray()
				: this.sql.exec<PresenceRow>("SELECT sub, name FROM _baton_presence WHERE sub > ? ORDER BY sub LIMIT ?", after, limit + 1).toArray();
		return { entries: rows.slice(0, limit).map(entryOf), more: rows.length > limit };
	}
}
