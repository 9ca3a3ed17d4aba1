/**
 * Phase 3: baton-only workloads — replay (5a), the idle-room observation (5d, run earlier in the
 * background by the caller) and the heartbeat (5c) — and the cost model built from them.
 */
import { defaultAssumptions, modelCost } from "../lib/cost.ts";
import { log, type Session } from "../lib/session.ts";
import { runHeartbeat } from "../workloads/heartbeat.ts";
import type { IdleResult } from "../workloads/idle.ts";
import { runReplay } from "../workloads/replay.ts";

export async function batonPhase(s: Session, idle: Promise<IdleResult | undefined>): Promise<void> {
	const { sizes, targets } = s;
	log("baton: replay");
	s.results.baton.replay = await s.attempt("replay", () => runReplay(targets.baton, s.room("replay"), sizes));
	s.results.baton.idle = await idle;
	log("baton: heartbeat");
	s.results.baton.heartbeat = await s.attempt(`heartbeat ${sizes.heartbeatSockets}`, () => runHeartbeat(targets.batonHb, s.room("hb"), sizes));
	const i = s.results.baton.idle;
	if (i === undefined) return;
	s.results.cost = modelCost(
		{
			batonAlarmRunsPerMin: i.baton.perMinute.alarmRuns,
			bareManualPingsPerMin: i.bareManual.perMinute.pingInvocations,
			bareAutoInvocationsPerMin: i.bareAuto.perMinute.pingInvocations,
		},
		defaultAssumptions(),
	);
}
