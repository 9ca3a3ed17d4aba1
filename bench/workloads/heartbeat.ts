/**
 * Workload 5c (baton heartbeat): H sockets that ping once per heartbeat interval (answered by
 * the runtime's auto-response), in a room served with a short HEARTBEAT_INTERVAL_MS. The bench
 * reads the pending alarm from the admin stats, waits for it without polling (a stats call would
 * wake the room and hide the wake-up a run pays after hibernation), and measures the run two
 * ways: workerd CPU around it (minus the idle rate before it) and sampled JS time in `alarm()`
 * (and in the constructor, when the alarm had to wake the room) from a CPU profile.
 */
import { closeAll, now, openMany, type Pinger, pause, startPinging } from "../lib/load.ts";
import { type ProfileResult, Profiler } from "../lib/profiler.ts";
import type { Sizes } from "../lib/sizes.ts";
import { round } from "../lib/stats.ts";
import { BENCH_HEARTBEAT, type Target } from "../lib/targets.ts";

/** The alarm's work is per socket; distinct subs would spend the phase in presence fan-out on join. */
const SOCKETS_PER_USER = 20;

export interface HeartbeatResult {
	sockets: number;
	/** Distinct subs among the sockets. */
	users: number;
	heartbeat: { intervalMs: number; timeoutMs: number };
	alarmRuns: number;
	/** ms from the first connect until the observed alarm was due. */
	alarmDueAfterConnectMs: number;
	/** Wakes of the room during the observation (room_wake log lines). */
	wakes: number;
	/**
	 * Workerd CPU from 1 s before the run was due to 1.5 s after, minus the idle rate measured
	 * before (pings answered by auto-response), per run: the run's whole cost, wake-up included.
	 */
	alarmCpuMsPerRun: number;
	/** Sampled JS time in `alarm()` per run, ms (coarse for runs well under a millisecond). */
	alarmMsPerRun: number;
	/** Sampled JS time in the Room constructor per wake, ms. */
	constructorMsPerWake: number;
	/** Any duration the room logged for its alarm (event containing "alarm" with `ms`/`durationMs`). */
	loggedAlarmMs: number[];
	heartbeatTimeouts: number;
	connectionsAfter: number;
	pingsSent: number;
	pongs: number;
	/** Workerd CPU over the whole observation window, ms, and the window's length. */
	workerdCpuMs: number;
	windowMs: number;
	timedOut: boolean;
	hotspots: Array<{ fn: string; selfMs: number; share: number }>;
}

function loggedDuration(line: Record<string, unknown>): number | null {
	for (const key of ["durationMs", "ms", "elapsedMs"]) {
		const v = line[key];
		if (typeof v === "number" && Number.isFinite(v)) return v;
	}
	return null;
}

export async function runHeartbeat(target: Target, room: string, sizes: Sizes): Promise<HeartbeatResult> {
	const users = Math.max(1, Math.round(sizes.heartbeatSockets / SOCKETS_PER_USER));
	const firstConnectAt = now();
	const opened = await openMany(sizes.heartbeatSockets, sizes.connectConcurrency, sizes.phaseDeadlineMs, (i) =>
		target.socket(room, `h${i % users}`, {}, 30_000),
	);
	const pinger = startPinging(opened.sockets, BENCH_HEARTBEAT.intervalMs);
	try {
		return await observe(target, room, firstConnectAt, opened.sockets.length, users, pinger);
	} finally {
		pinger.stop();
		await closeAll(opened.sockets);
	}
}

interface Window {
	cpuMs: number;
	windowMs: number;
	/** CPU around the run, idle rate removed; NaN when the run came late. */
	aroundMs: number;
	before: Awaited<ReturnType<Target["batonStats"]>>;
	after: Awaited<ReturnType<Target["batonStats"]>>;
	dueAfterConnectMs: number;
}

/** Waits for the pending alarm (bounded) while reading CPU; see the module comment. */
async function watchAlarm(target: Target, room: string, firstConnectAt: number): Promise<Window> {
	const before = await target.batonStats(room);
	const cpu0 = target.proc.cpuMs();
	const start = now();
	const dueIn = (before.alarm ?? Date.now() + BENCH_HEARTBEAT.timeoutMs) - Date.now();
	const capped = Math.min(Math.max(0, dueIn), BENCH_HEARTBEAT.timeoutMs + 3000);
	await pause(Math.max(0, capped - 1000));
	const cpuBefore = target.proc.cpuMs();
	const beforeAt = now();
	await pause(Math.min(capped, 1000) + 1500);
	// CPU is read before the stats call, which scans every socket itself.
	const cpuEnd = target.proc.cpuMs();
	const endAt = now();
	const idleRate = beforeAt > start ? (cpuBefore - cpu0) / (beforeAt - start) : 0;
	let aroundMs = cpuEnd - cpuBefore - idleRate * (endAt - beforeAt);
	let after = await target.batonStats(room);
	// Bounded fallback for a late alarm: poll once a second (the CPU figure then missed the run).
	if (after.alarmRuns === before.alarmRuns) aroundMs = Number.NaN;
	const giveUpAt = now() + BENCH_HEARTBEAT.intervalMs + 10_000;
	while (after.alarmRuns === before.alarmRuns && now() < giveUpAt) {
		await pause(1000);
		after = await target.batonStats(room);
	}
	// Let a run that is still finishing complete before the profile stops.
	await pause(500);
	return {
		cpuMs: target.proc.cpuMs() - cpu0,
		windowMs: now() - start,
		aroundMs,
		before,
		after,
		dueAfterConnectMs: start + dueIn - firstConnectAt,
	};
}

async function observe(target: Target, room: string, firstConnectAt: number, sockets: number, users: number, pinger: Pinger): Promise<HeartbeatResult> {
	// Let the connect burst (welcomes, presence) drain before the idle rate is measured.
	await pause(2000);
	const logCursor = target.proc.logCursor;
	// A fine sampling interval: a run over a few hundred sockets takes about a millisecond.
	const profiler = await Profiler.start(target.proc.inspectorPort, 50);
	let w: Window;
	let profile: ProfileResult;
	try {
		w = await watchAlarm(target, room, firstConnectAt);
	} finally {
		profile = await profiler.stop();
	}
	const roomLogs = target.proc.logsSince(logCursor, (l) => l.room === room);
	const wakes = roomLogs.filter((l) => l.event === "room_wake").length;
	const loggedAlarmMs = roomLogs
		.filter((l) => /alarm/i.test(l.event))
		.flatMap((l) => {
			const d = loggedDuration(l);
			return d === null ? [] : [d];
		});
	const runs = w.after.alarmRuns - w.before.alarmRuns;
	return {
		sockets,
		users,
		heartbeat: { ...BENCH_HEARTBEAT },
		alarmRuns: runs,
		alarmDueAfterConnectMs: round(w.dueAfterConnectMs, 0),
		wakes,
		// Below zero means the run was smaller than the idle rate's noise: no figure.
		alarmCpuMsPerRun: runs > 0 && w.aroundMs > 0 ? round(w.aroundMs / runs, 2) : Number.NaN,
		alarmMsPerRun: runs > 0 ? round(profile.inclusiveMs("alarm") / runs, 2) : Number.NaN,
		constructorMsPerWake: wakes > 0 ? round(profile.inclusiveMs("Room") / wakes, 2) : Number.NaN,
		loggedAlarmMs,
		heartbeatTimeouts: w.after.heartbeatTimeouts - w.before.heartbeatTimeouts,
		connectionsAfter: w.after.connections,
		pingsSent: pinger.sent(),
		pongs: pinger.pongs(),
		workerdCpuMs: round(w.cpuMs, 1),
		windowMs: round(w.windowMs, 0),
		timedOut: runs === 0,
		hotspots: profile.hotspots(8),
	};
}
