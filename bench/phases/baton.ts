/**
 * Phase 3: replay (5a), the idle-room observation (5d, run earlier in the background by the
 * caller), the heartbeat (5c), presence at scale (baton and bare), the migration of a room, and
 * the cost model built from the idle figures. With `--profile`, a profiled connect burst of baton.
 */
import { defaultAssumptions, modelCost } from "../lib/cost.ts";
import { log, type Session } from "../lib/session.ts";
import { runHeartbeat } from "../workloads/heartbeat.ts";
import type { IdleResult } from "../workloads/idle.ts";
import { runMigration } from "../workloads/migration.ts";
import { runPresence } from "../workloads/presence.ts";
import { runProfiledConnect } from "../workloads/profile.ts";
import { runReplay } from "../workloads/replay.ts";

export async function batonPhase(s: Session, idle: Promise<IdleResult | undefined>, profile: boolean): Promise<void> {
	const { sizes, targets } = s;
	log("baton: replay");
	s.results.baton.replay = await s.attempt("replay", () => runReplay(targets.baton, s.room("replay"), sizes));
	log(`presence: ${sizes.presenceSubs} distinct users into one room`);
	for (const name of ["bare", "baton"] as const) {
		const r = await s.attempt(`${name} presence ${sizes.presenceSubs}`, () => runPresence(s.target(name), s.room("presence"), sizes));
		if (r !== undefined) s.of(name).presence = r;
	}
	log(`baton: migration of ${sizes.migrationClients} clients`);
	s.results.baton.migration = await s.attempt("migration", () => runMigration(targets.baton, s.room("migrate"), sizes));
	s.results.baton.idle = await idle;
	log("baton: heartbeat");
	s.results.baton.heartbeat = await s.attempt(`heartbeat ${sizes.heartbeatSockets}`, () => runHeartbeat(targets.batonHb, s.room("hb"), sizes));
	if (profile) {
		const p = await s.attempt("baton connect profile (on baton-hb, inspector attached)", () => runProfiledConnect(targets.batonHb, s.room("cprofile"), sizes));
		if (p !== undefined) s.results.connectProfile = p;
	}
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
