/**
 * Resumable sessions, kept in SQLite. A session is alive while it has a socket (expires_at NULL)
 * and for RESUME_WINDOW_MS after its last socket closed; its row also holds the secret of its
 * resume token (resume-secret.ts; NULL for a session made before resume tokens carried one).
 */
export interface SessionRow {
	sub: string;
	name: string;
	expires_at: number | null;
	secret: string | null;
	[key: string]: SqlStorageValue;
}

export class Sessions {
	constructor(private readonly sql: SqlStorage) {}

	get(session: string): SessionRow | undefined {
		return this.sql.exec<SessionRow>("SELECT sub, name, expires_at, secret FROM _baton_sessions WHERE id = ?", session).toArray()[0];
	}

	/** True when `session` belongs to `sub` and can still be resumed. */
	isResumable(session: string, sub: string, now: number): boolean {
		const row = this.get(session);
		return row !== undefined && isResumableRow(row, sub, now);
	}

	/** A new session, connected (it cannot expire while it has a socket): one row. */
	open(session: string, sub: string, name: string, secret: string): void {
		this.sql.exec("INSERT INTO _baton_sessions (id, sub, name, expires_at, secret) VALUES (?, ?, ?, NULL, ?)", session, sub, name, secret);
	}

	/**
	 * A resumed session connected again. Written only when something changed: a session whose
	 * socket is being replaced is already marked connected, and row writes are billed.
	 */
	reopen(session: string, row: SessionRow, name: string, secret: string): void {
		if (row.expires_at === null && row.name === name && row.secret === secret) return;
		this.sql.exec("UPDATE _baton_sessions SET name = ?, expires_at = NULL, secret = ? WHERE id = ?", name, secret, session);
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

/** A session row `sub` may resume at `now`: its own, connected or within its window. */
export function isResumableRow(row: SessionRow, sub: string, now: number): boolean {
	return row.sub === sub && (row.expires_at === null || row.expires_at > now);
}
