/**
 * Presence at scale (CONTRACT.md §12): distinct users connect into one room, up to N (5,000 / quick
 * 1,000), and at each checkpoint the stage since the previous one is read: its connect rate, and
 * the frames the target sent per connect — every text frame any client received during the stage
 * (the joiner's `welcome` included) except `presence_count` (at most one per second, whatever the
 * connect rate) and `pong`. In count mode baton sends each connect its welcome and nothing to the
 * others, so the figure stays flat as the room grows; with join/leave events it would grow with it.
 */
import { type BenchSocket, closeAll, now, openMany, pause } from "../lib/load.ts";
import type { Sizes } from "../lib/sizes.ts";
import { perSecond, round } from "../lib/stats.ts";
import type { Target } from "../lib/targets.ts";

export interface PresenceStage {
	/** Subs present at the end of the stage. */
	subs: number;
	connects: number;
	connectionsPerSec: number;
	/** Frames received by all clients during the stage per connect (not `presence_count` or `pong`). */
	framesPerConnect: number;
	/** `presence_count` frames received during the stage, per connect (for the record). */
	countFramesPerConnect: number;
	workerdCpuMsPerConnection: number;
}

export interface PresenceResult {
	subs: number;
	failures: number;
	failureSamples: string[];
	timedOut: boolean;
	stages: PresenceStage[];
}

/** Frames in flight have arrived once the count stays still for this long (bounded by SETTLE_MAX_MS). */
const SETTLE_QUIET_MS = 300;
const SETTLE_MAX_MS = 5000;

async function settle(count: () => number): Promise<void> {
	const started = now();
	let last = count();
	while (now() - started < SETTLE_MAX_MS) {
		await pause(SETTLE_QUIET_MS);
		if (count() === last) return;
		last = count();
	}
}

export async function runPresence(target: Target, room: string, sizes: Sizes): Promise<PresenceResult> {
	const sockets: BenchSocket[] = [];
	let frames = 0;
	let countFrames = 0;
	const watch = (text: string) => {
		if (text === "pong") return;
		if (text.startsWith('{"type":"presence_count"')) countFrames++;
		else frames++;
	};
	const stages: PresenceStage[] = [];
	let failures = 0;
	const failureSamples: string[] = [];
	let timedOut = false;
	let from = 0;
	for (const checkpoint of sizes.presenceCheckpoints) {
		const [frames0, count0, cpu0, t0] = [frames, countFrames, target.proc.cpuMs(), now()];
		const base = from;
		const run = await openMany(checkpoint - from, sizes.connectConcurrency, sizes.phaseDeadlineMs, (i) => target.socket(room, `p${base + i}`), watch);
		sockets.push(...run.sockets);
		// Frames the stage's last connects caused (event mode: their joins to everyone) may still be
		// in flight when the last handshake ends: they are this stage's, so wait for them.
		await settle(() => frames);
		// The joiner's first frame (baton: welcome) is its handshake, not seen by `watch`.
		const firstFrames = run.sockets.filter((s) => s.firstFrame !== null).length;
		const elapsed = now() - t0;
		const connects = run.sockets.length;
		stages.push({
			subs: sockets.length,
			connects,
			connectionsPerSec: perSecond(connects, run.elapsedMs),
			framesPerConnect: connects > 0 ? round((frames - frames0 + firstFrames) / connects, 3) : Number.NaN,
			countFramesPerConnect: connects > 0 ? round((countFrames - count0) / connects, 3) : Number.NaN,
			workerdCpuMsPerConnection: connects > 0 ? round((target.proc.cpuMs() - cpu0) / connects, 3) : Number.NaN,
		});
		failures += run.failures;
		failureSamples.push(...run.failureSamples);
		if (run.timedOut || elapsed > sizes.phaseDeadlineMs) {
			timedOut = true;
			break;
		}
		from = checkpoint;
	}
	await closeAll(sockets);
	return { subs: sockets.length, failures, failureSamples: failureSamples.slice(0, 5), timedOut, stages };
}
