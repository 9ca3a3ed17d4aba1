/**
 * Workload 5d (idle pinging room): C clients that only send `ping` once per heartbeat interval,
 * observed for a window. Counted server-side:
 * - baton: `alarmRuns` and wakes (room_wake log lines) — its pings are auto-responses;
 * - bare, manual ping (`ping` answered in webSocketMessage): ping invocations and wakes;
 * - bare, auto-response: the floor (nothing should run).
 * Each count is turned into a per-room, per-minute rate at the bench's heartbeat interval.
 */
import { closeAll, type OpenSpec, openMany, pause, startPinging } from "../lib/load.ts";
import type { Sizes } from "../lib/sizes.ts";
import { round } from "../lib/stats.ts";
import { BENCH_HEARTBEAT, type Target } from "../lib/targets.ts";

export interface IdleCounts {
	clients: number;
	windowMs: number;
	pingsSent: number;
	pongs: number;
	/** JavaScript invocations caused by pings (webSocketMessage runs). */
	pingInvocations: number;
	alarmRuns: number;
	/** Times the object was constructed in the window. */
	wakeups: number;
	perMinute: { pingInvocations: number; alarmRuns: number; wakeups: number };
	note?: string;
}

export interface IdleResult {
	heartbeat: { intervalMs: number; timeoutMs: number };
	baton: IdleCounts;
	bareManual: IdleCounts;
	bareAuto: IdleCounts;
}

interface Counter {
	read(): Promise<{ pingInvocations: number; alarmRuns: number; wakeups: number }>;
}

async function observe(spec: (i: number) => OpenSpec, counter: Counter, sizes: Sizes, note?: string): Promise<IdleCounts> {
	const opened = await openMany(sizes.idleClients, sizes.idleClients, sizes.phaseDeadlineMs, spec);
	const pinger = startPinging(opened.sockets, BENCH_HEARTBEAT.intervalMs);
	await pause(1000);
	const start = await counter.read();
	const t0 = Date.now();
	await pause(sizes.idleWindowMs);
	const end = await counter.read();
	const windowMs = Date.now() - t0;
	pinger.stop();
	await closeAll(opened.sockets);
	const per = (n: number) => round((n * 60_000) / windowMs, 2);
	const pingInvocations = end.pingInvocations - start.pingInvocations;
	const alarmRuns = end.alarmRuns - start.alarmRuns;
	const wakeups = end.wakeups - start.wakeups;
	return {
		clients: opened.sockets.length,
		windowMs,
		pingsSent: pinger.sent(),
		pongs: pinger.pongs(),
		pingInvocations,
		alarmRuns,
		wakeups,
		perMinute: { pingInvocations: per(pingInvocations), alarmRuns: per(alarmRuns), wakeups: per(wakeups) },
		...(note === undefined ? {} : { note }),
	};
}

/** Runs the three observations concurrently (each on its own room; baton on the `baton-hb` process). */
export async function runIdle(batonHb: Target, bare: Target, room: string, sizes: Sizes): Promise<IdleResult> {
	const batonCounter: Counter = {
		// Wakes are counted from room_wake log lines read before the stats call, so the wake that
		// the stats read itself causes (on a hibernated room) is not counted.
		read: async () => {
			const wakes = batonHb.proc.logsSince(0, (l) => l.event === "room_wake" && l.room === room).length;
			const stats = await batonHb.batonStats(room);
			return { pingInvocations: 0, alarmRuns: stats.alarmRuns, wakeups: wakes };
		},
	};
	const bareCounter = (manual: boolean): Counter => ({
		read: async () => {
			const stats = await bare.bareStats(`${room}-${manual ? "manual" : "auto"}`, manual ? "manual" : undefined);
			return { pingInvocations: stats.pings, alarmRuns: 0, wakeups: stats.wakeups };
		},
	});
	const bareNote = "a wake caused by a stats read is not counted (the bare DO tells them apart)";
	const [baton, bareManual, bareAuto] = await Promise.all([
		observe((i) => batonHb.socket(room, `idle${i}`), batonCounter, sizes),
		observe((i) => bare.socket(`${room}-manual`, `idle${i}`, { variant: "manual" }), bareCounter(true), sizes, bareNote),
		observe((i) => bare.socket(`${room}-auto`, `idle${i}`), bareCounter(false), sizes, bareNote),
	]);
	return { heartbeat: { ...BENCH_HEARTBEAT }, baton, bareManual, bareAuto };
}
