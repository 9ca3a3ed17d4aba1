/**
 * Resumable sessions, presence and bans: the room-wide connection facts kept in SQLite.
 * A session is alive while it has a socket (expires_at NULL) and for RESUME_WINDOW_MS after its
 * last socket closed; resume tokens are honoured only for alive sessions of the same sub.
 */
import type { PresenceEntry } from "../../protocol/messages.ts";

interface SessionRow {
	sub: string;
	expires_at: number | null;
	[key: string]: SqlStorageValue;
}

export class Sessions {
	constructor(private readonly sql: SqlStorage) {}

	/** True when `session` belongs to `sub` and can still be resumed. */
	isResumable(session: string, sub: string, now: number): boolean {
		const row = this.sql.exec<SessionRow>("SELECT sub, expires_at FROM sessions WHERE id = ?", session).toArray()[0];
		return row !== undefined && row.sub === sub && (row.expires_at === null || row.expires_at > now);
	}

	/** Marks a session connected (it cannot expire while it has a socket). */
	markConnected(session: string, sub: string, name: string): void {
		this.sql.exec(
			"INSERT INTO sessions (id, sub, name, expires_at) VALUES (?, ?, ?, NULL) ON CONFLICT(id) DO UPDATE SET name = excluded.name, expires_at = NULL",
			session,
			sub,
			name,
		);
	}

	/** Starts the resume window of a session whose last socket closed. */
	markDisconnected(session: string, expiresAt: number): void {
		this.sql.exec("UPDATE sessions SET expires_at = ? WHERE id = ?", expiresAt, session);
	}

	/** Sessions that are connected or still resumable. */
	countAlive(now: number): number {
		const row = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sessions WHERE expires_at IS NULL OR expires_at > ?", now).toArray()[0];
		return row?.n ?? 0;
	}

	pruneExpired(now: number): void {
		this.sql.exec("DELETE FROM sessions WHERE expires_at IS NOT NULL AND expires_at <= ?", now);
	}

	/** Sessions of the room whose sockets were open when the room last ran (for a crash sweep). */
	connectedSessions(): string[] {
		return this.sql
			.exec<{ id: string }>("SELECT id FROM sessions WHERE expires_at IS NULL")
			.toArray()
			.map((r) => r.id);
	}
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
		const row = this.sql.exec<PresenceRow>("SELECT sub, name, leave_at FROM presence WHERE sub = ?", sub).toArray()[0];
		if (row === undefined) {
			this.sql.exec("INSERT INTO presence (sub, name, joined_at, leave_at) VALUES (?, ?, ?, NULL)", sub, name, now);
			return true;
		}
		this.sql.exec("UPDATE presence SET leave_at = NULL, name = ? WHERE sub = ?", name, sub);
		return false;
	}

	/** `sub`'s last connection is gone: its `leave` is announced at `leaveAt` unless it returns. */
	depart(sub: string, leaveAt: number): void {
		this.sql.exec("UPDATE presence SET leave_at = ? WHERE sub = ? AND leave_at IS NULL", leaveAt, sub);
	}

	/** Removes and returns the subs whose grace has passed. */
	takeDueLeaves(now: number): PresenceEntry[] {
		const due = this.sql
			.exec<PresenceRow>("SELECT sub, name, leave_at FROM presence WHERE leave_at IS NOT NULL AND leave_at <= ? ORDER BY leave_at", now)
			.toArray()
			.map((r) => ({ sub: r.sub, name: r.name }));
		if (due.length > 0) this.sql.exec("DELETE FROM presence WHERE leave_at IS NOT NULL AND leave_at <= ?", now);
		return due;
	}

	/** Earliest pending leave, or null. */
	nextLeaveAt(): number | null {
		const row = this.sql.exec<{ t: number | null }>("SELECT MIN(leave_at) AS t FROM presence").toArray()[0];
		return row?.t ?? null;
	}

	/** Who is here (including subs within their leave grace), in join order. */
	list(): PresenceEntry[] {
		return this.sql
			.exec<PresenceRow>("SELECT sub, name, leave_at FROM presence ORDER BY joined_at, sub")
			.toArray()
			.map((r) => ({ sub: r.sub, name: r.name }));
	}

	/** Forgets everyone (the room is empty: nobody is left to tell about leaves). */
	clear(): void {
		this.sql.exec("DELETE FROM presence");
	}
}

export class Bans {
	constructor(private readonly sql: SqlStorage) {}

	ban(sub: string, until: number): void {
		this.sql.exec("INSERT INTO bans (sub, until) VALUES (?, ?) ON CONFLICT(sub) DO UPDATE SET until = excluded.until", sub, until);
	}

	isBanned(sub: string, now: number): boolean {
		const row = this.sql.exec<{ until: number }>("SELECT until FROM bans WHERE sub = ?", sub).toArray()[0];
		return row !== undefined && row.until > now;
	}
}
