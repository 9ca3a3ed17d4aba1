/** Kicked subs (CONTRACT.md §3 kick with `banSeconds`): refused until a time. */
export class Bans {
	constructor(private readonly sql: SqlStorage) {}

	ban(sub: string, until: number): void {
		this.sql.exec("INSERT INTO _baton_bans (sub, until) VALUES (?, ?) ON CONFLICT(sub) DO UPDATE SET until = excluded.until", sub, until);
	}

	isBanned(sub: string, now: number): boolean {
		const row = this.sql.exec<{ until: number }>("SELECT until FROM _baton_bans WHERE sub = ?", sub).toArray()[0];
		return row !== undefined && row.until > now;
	}
}
