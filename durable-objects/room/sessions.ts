/**
 * Resumable sessions, kept in SQLite. A session is alive while it has a socket (expires_at NULL) and for RESUME_WINDOW_MS after its
 * last socket closed; resume tokens are honoured only for alive sessions of the same sub.
 */
interface SessionRow {
	sub: string;
	expires_at: number | null;
	[key: string]: SqlStorageValue;
}

export class Sessions {
	constructor(private readonly sql: SqlStorage) {}

	/** True when `session` belongs to `sub` and can still be resumed. */
	isResumable(session: string, sub: string, now: number): boolean {
		const row = this.sql.exec<SessionRow>("SELECT sub, expires_at FROM _baton_sessions WHERE id = ?", session).toArray()[0];
		return row !== undefined && row.sub === sub && (row.expires_at === null || row.expires_at > now);
	}

	/** Marks a session connected (it cannot expire while it has a socket). */
	markConnected(session: string, sub: string, name: string): void {
		this.sql.exec(
			"INSERT INTO _baton_sessions (id, sub, name, expires_at) VALUES (?, ?, ?, NULL) ON CONFLICT(id) DO UPDATE SET name = excluded.name, expires_at = NULL",
			session,
			sub,
			name,
		);
	}

	/** Starts the resume window of a session whose last socket closed. */
	markDisconnected(session: string, expiresAt: number): void {
		this.sql.exec("UPDATE _baton_sessions SET expires_at = ? WHERE id = ?", expiresAt, session);
	}

	/** Sessions that are connected or still resumable. */
	countAlive(now: number): number {
		const row = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM _baton_sessions WHERE expires_at IS NULL OR expires_at > ?", now).toArray()[0];
		return row?.n ?? 0;
	}

	/** Starts the resume window of every connected session (an imported copy has no sockets yet). */
	startAllWindows(expiresAt: number): void {
		this.sql.exec("UPDATE _baton_sessions SET expires_at = ? WHERE expires_at IS NULL", expiresAt);
	}

	pruneExpired(now: number): void {
		this.sql.exec("DELETE FROM _baton_sessions WHERE expires_at IS NOT NULL AND expires_at <= ?", now);
	}

	/** Sessions of the room whose sockets were open when the room last ran (for a crash sweep). */
	connectedSessions(): string[] {
		return this.sql
			.exec<{ id: string }>("SELECT id FROM _baton_sessions WHERE expires_at IS NULL")
			.toArray()
			.map((r) => r.id);
	}
}
