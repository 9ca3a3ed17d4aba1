/**
 * `--profile`: one more fan-out run per target with a CPU profile of its Worker (sampled through
 * wrangler's inspector), to show where the time per delivery goes. Not a headline figure: the
 * attached inspector adds its own overhead.
 */
import { closeAll, openMany, openSocket } from "../lib/load.ts";
import { type ProfileResult, Profiler } from "../lib/profiler.ts";
import type { Sizes } from "../lib/sizes.ts";
import { round } from "../lib/stats.ts";
import type { Target } from "../lib/targets.ts";
import { runFanout } from "./fanout.ts";

export interface FanoutProfile {
	deliveries: number;
	totalJsMs: number;
	jsMsPerDelivery: number;
	hotspots: Array<{ fn: string; selfMs: number; share: number }>;
	/** Callers of the three largest native / anonymous hotspots. */
	nativeCallers: Record<string, Array<{ fn: string; selfMs: number; share: number }>>;
}

/** Who calls the three largest native (`:0`) hotspots: what the runtime's time is spent for. */
function nativeCallersOf(p: ProfileResult, hotspots: ReadonlyArray<{ fn: string }>): FanoutProfile["nativeCallers"] {
	return Object.fromEntries(
		hotspots
			.filter((h) => h.fn.endsWith(" :0"))
			.slice(0, 3)
			.map((h) => [h.fn, p.callers(h.fn)]),
	);
}

export async function runProfiledFanout(target: Target, room: string, sizes: Sizes): Promise<FanoutProfile> {
	const session: { profiler?: Profiler; profile?: ProfileResult } = {};
	const run = await runFanout(target, room, sizes, {
		beforeSend: async () => {
			session.profiler = await Profiler.start(target.proc.inspectorPort);
		},
		afterDelivery: async () => {
			session.profile = await session.profiler?.stop();
		},
	});
	const p = session.profile;
	if (p === undefined) throw new Error("no profile was taken");
	const hotspots = p.hotspots(15);
	return {
		deliveries: run.delivered,
		totalJsMs: round(p.totalMs, 1),
		jsMsPerDelivery: run.delivered > 0 ? round(p.totalMs / run.delivered, 5) : Number.NaN,
		hotspots,
		nativeCallers: nativeCallersOf(p, hotspots),
	};
}

export interface ConnectProfile {
	connections: number;
	totalJsMs: number;
	jsMsPerConnection: number;
	hotspots: Array<{ fn: string; selfMs: number; share: number }>;
	/** Callers of the three largest native / anonymous hotspots (what the runtime's time is spent for). */
	nativeCallers: Record<string, Array<{ fn: string; selfMs: number; share: number }>>;
}

/** `--profile`: a connect burst of `sizes.connect` distinct users with the Worker's JavaScript sampled. */
export async function runProfiledConnect(target: Target, room: string, sizes: Sizes): Promise<ConnectProfile> {
	const warm = await openSocket(target.socket(room, "warm"));
	const profiler = await Profiler.start(target.proc.inspectorPort);
	const run = await openMany(sizes.connect, sizes.connectConcurrency, sizes.phaseDeadlineMs, (i) => target.socket(room, `p${i}`));
	const p = await profiler.stop();
	await closeAll([warm.socket, ...run.sockets]);
	const n = run.sockets.length;
	const hotspots = p.hotspots(25);
	const nativeCallers = nativeCallersOf(p, hotspots);
	return { connections: n, totalJsMs: round(p.totalMs, 1), jsMsPerConnection: n > 0 ? round(p.totalMs / n, 4) : Number.NaN, hotspots, nativeCallers };
}
