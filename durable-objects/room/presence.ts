/**
 * Presence (CONTRACT.md §5, §9): one row per sub that has a live connection or is within its
 * leave grace (`leave_at` set). A sub's first live connection is a `join` for the others; its
 * last connection gone starts the grace, and the `leave` is announced once the grace has passed
 * without a return.
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

export class Presence {
	constructor(private readonly sql: SqlStorage) {}

	/**
	 * Records that `sub` has a live connection. Returns true when this is a join to announce
	 * (not already present, nor within its leave grace).
	 */
	arrive(sub: string, name: string, now: number): boolean {
		const row = this.sql.exec<PresenceRow>("SELECT sub, name, leave_at FROM _baton_presence WHERE sub = ?", sub).toArray()[0];
		if (row === undefined) {
			this.sql.exec("INSERT INTO _baton_presence (sub, name, joined_at, leave_at) VALUES (?, ?, ?, NULL)", sub, name, now);
			return true;
		}
		this.sql.exec("UPDATE _baton_presence SET leave_at = NULL, name = ? WHERE sub = ?", name, sub);
		return false;
	}

	/** `sub`'s last connection is gone: its `leave` is announced at `leaveAt` unless it returns. */
	depart(sub: string, leaveAt: number): void {
		this.sql.exec("UPDATE _baton_presence SET leave_at = ? WHERE sub = ? AND leave_at IS NULL", leaveAt, sub);
	}

	/** Starts the leave grace of everyone present (an imported copy has no sockets yet). */
	startAllGraces(leaveAt: number): void {
		this.sql.exec("UPDATE _baton_presence SET leave_at = ? WHERE leave_at IS NULL", leaveAt);
	}

	/** Removes and returns the subs whose grace has passed. */
	takeDueLeaves(now: number): PresenceEntry[] {
		const due = this.sql
			.exec<PresenceRow>("SELECT sub, name, leave_at FROM _baton_presence WHERE leave_at IS NOT NULL AND leave_at <= ? ORDER BY leave_at", now)
			.toArray()
			.map((r) => ({ sub: r.sub, name: r.name }));
		if (due.length > 0) this.sql.exec("DELETE FROM _baton_presence WHERE leave_at IS NOT NULL AND leave_at <= ?", now);
		return due;
	}

	/** Earliest pending leave, or null. */
	nextLeaveAt(): number | null {
		const row = this.sql.exec<{ t: number | null }>("SELECT MIN(leave_at) AS t FROM _baton_presence").toArray()[0];
		return row?.t ?? null;
	}

	/** Who is here (including subs within their leave grace), in join order. */
	list(): PresenceEntry[] {
		return this.sql
			.exec<PresenceRow>("SELECT sub, name, leave_at FROM _baton_presence ORDER BY joined_at, sub")
			.toArray()
			.map((r) => ({ sub: r.sub, name: r.name }));
	}
}
