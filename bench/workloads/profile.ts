/**
 * `--profile`: one more fan-out run per target with a CPU profile of its Worker (sampled through
 * wrangler's inspector), to show where the time per delivery goes. Not a headline figure: the
 * attached inspector adds its own overhead.
 */
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
	return {
		deliveries: run.delivered,
		totalJsMs: round(p.totalMs, 1),
		jsMsPerDelivery: run.delivered > 0 ? round(p.totalMs / run.delivered, 5) : Number.NaN,
		hotspots: p.hotspots(15),
	};
}
