/** Persisted counters behind the admin stats route (CONTRACT.md §3, §9). */
import { type Meta, MetaKey } from "./meta.ts";

export class RoomCounters {
	constructor(
		private readonly sql: SqlStorage,
		private readonly meta: Meta,
	) {}

	/** Counts a constructor run, so evictions show up as wakeups. */
	countWakeup(): void {
		this.meta.increment(MetaKey.Wakeups);
	}

	countAlarmRun(): void {
		this.meta.increment(MetaKey.AlarmRuns);
	}

	countHeartbeatTimeout(): void {
		this.meta.increment(MetaKey.HeartbeatTimeouts);
	}

	countClose(code: number): void {
		this.sql.exec("INSERT INTO closes (code, n) VALUES (?, 1) ON CONFLICT(code) DO UPDATE SET n = n + 1", code);
	}

	closes(): Record<string, number> {
		const out: Record<string, number> = {};
		for (const row of this.sql.exec<{ code: number; n: number }>("SELECT code, n FROM closes ORDER BY code")) out[String(row.code)] = row.n;
		return out;
	}

	wakeups(): number {
		return this.meta.getNumber(MetaKey.Wakeups) ?? 0;
	}

	alarmRuns(): number {
		return this.meta.getNumber(MetaKey.AlarmRuns) ?? 0;
	}

	heartbeatTimeouts(): number {
		return this.meta.getNumber(MetaKey.HeartbeatTimeouts) ?? 0;
	}
}
