/** Kicked subs (CONTRACT.md §3 kick with `banSeconds`): refused until a time. */
export class Bans {
	/**
	 * True once the table is known to be empty (most rooms never ban anyone): every connect asks,
	 * and the answer is then free. Dropped when a ban is written or a migration's copy arrives.
	 */
	#empty: boolean | null = null;

	constructor(private readonly sql: SqlStorage) {}

	ban(sub: string, until: number): void {
		this.sql.exec("INSERT INTO _baton_bans (sub, until) VALUES (?, ?) ON CONFLICT(sub) DO UPDATE SET until = excluded.until", sub, until);
		this.#empty = false;
	}

	isBanned(sub: string, now: number): boolean {
		this.#empty ??= this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM (SELECT 1 FROM _baton_bans LIMIT 1)").one().n === 0;
		if (this.#empty) return false;
		const row = this.sql.exec<{ until: number }>("SELECT until FROM _baton_bans WHERE sub = ?", sub).toArray()[0];
		return row !== undefined && row.until > now;
	}

	/** Rows were written behind this object's back (a migration's import). */
	forget(): void {
		this.#empty = null;
	}
}
