/** Persisted counters behind the admin stats route (CONTRACT.md §3, §9). */

interface CounterRow {
	wakeups: number;
	alarm_runs: number;
	heartbeat_timeouts: number;
	[key: string]: SqlStorageValue;
}

/**
 * How long a wake may wait in memory to be folded into the next counter write. The runtime calls
 * `alarm()` a few milliseconds after constructing an object an alarm woke, and evicts an object
 * only after about 10 s without events, so this folds those wakes and still writes every other
 * one long before the object could go.
 */
export const WAKE_FOLD_MS = 1000;

/**
 * Wakeups, alarm runs and heartbeat timeouts live in one row and are bumped by one statement.
 * A wake is not written by the constructor itself: it is held in memory and folded into the next
 * bump — an idle room's alarm run then writes one row, not two — or written on its own after
 * {@link WAKE_FOLD_MS}, whichever comes first, so it is counted once either way.
 */
export class RoomCounters {
	#pendingWakes = 0;

	constructor(private readonly sql: SqlStorage) {}

	/** Counts a constructor run, so evictions show up as wakeups. */
	countWakeup(): void {
		this.#pendingWakes++;
		setTimeout(() => {
			if (this.#pendingWakes > 0) this.#bump({});
		}, WAKE_FOLD_MS);
	}

	countAlarmRun(): void {
		this.#bump({ alarmRuns: 1 });
	}

	countHeartbeatTimeout(): void {
		this.#bump({ heartbeatTimeouts: 1 });
	}

	countClose(code: number): void {
		this.sql.exec("INSERT INTO _baton_closes (code, n) VALUES (?, 1) ON CONFLICT(code) DO UPDATE SET n = n + 1", code);
	}

	closes(): Record<string, number> {
		const out: Record<string, number> = {};
		for (const row of this.sql.exec<{ code: number; n: number }>("SELECT code, n FROM _baton_closes ORDER BY code")) out[String(row.code)] = row.n;
		return out;
	}

	wakeups(): number {
		return this.#row().wakeups + this.#pendingWakes;
	}

	alarmRuns(): number {
		return this.#row().alarm_runs;
	}

	heartbeatTimeouts(): number {
		return this.#row().heartbeat_timeouts;
	}

	#row(): CounterRow {
		const row = this.sql.exec<CounterRow>("SELECT wakeups, alarm_runs, heartbeat_timeouts FROM _baton_counters WHERE id = 1").toArray()[0];
		return row ?? { wakeups: 0, alarm_runs: 0, heartbeat_timeouts: 0 };
	}

	#bump(by: { alarmRuns?: number; heartbeatTimeouts?: number }): void {
		const wakes = this.#pendingWakes;
		this.#pendingWakes = 0;
		this.sql.exec(
			`INSERT INTO _baton_counters (id, wakeups, alarm_runs, heartbeat_timeouts) VALUES (1, ?, ?, ?)
			 ON CONFLICT(id) DO UPDATE SET wakeups = wakeups + excluded.wakeups, alarm_runs = alarm_runs + excluded.alarm_runs,
			 heartbeat_timeouts = heartbeat_timeouts + excluded.heartbeat_timeouts`,
			wakes,
			by.alarmRuns ?? 0,
			by.heartbeatTimeouts ?? 0,
		);
	}
}
