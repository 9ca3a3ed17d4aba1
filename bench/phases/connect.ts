/**
 * Phase 1: workloads 1 and 4 on every target, then baton's drain (5b) on its connect room, then
 * the baton diagnostics on the second baton process.
 */
import { pause } from "../lib/load.ts";
import { log, ORDER, type Session } from "../lib/session.ts";
import type { Target } from "../lib/targets.ts";
import { type ConnectRun, finishConnect, readHibernated, runConnect } from "../workloads/connect.ts";
import { runDrain } from "../workloads/drain.ts";

/** Local workerd hibernates an idle object after about 10 s. */
const HIBERNATION_WAIT_MS = 13_000;

export async function connectPhase(s: Session): Promise<void> {
	const { sizes } = s;
	log("connect + idle memory (baton's room is then drained)");
	const runs: Array<[Target, ConnectRun]> = [];
	for (const name of ORDER) {
		const run = await s.attempt(`${name} connect ${sizes.connect}`, () => runConnect(s.target(name), s.room("connect"), sizes));
		if (run === undefined) continue;
		s.of(name).connect = run.connect;
		s.of(name).memory = run.memory;
		runs.push([s.target(name), run]);
	}
	if (sizes.memoryAfterHibernation) {
		await pause(HIBERNATION_WAIT_MS);
		for (const [t, run] of runs) readHibernated(t, run);
	}
	for (const [t, run] of runs) {
		if (t.name === "baton") {
			s.results.baton.drain = await s.attempt(`baton drain ${run.sockets.length}`, () => runDrain(t, s.room("connect"), run.sockets, sizes));
		}
		await finishConnect(t, run, false);
	}

	// On the second baton process while it is as fresh as the first was (RSS deltas are
	// order-sensitive): the same connect without the [assets] router, then with one shared sub
	// (no presence fan-out per join; rate and CPU only, its RSS would follow the first run's).
	const hb = s.targets.batonHb;
	const noAssets = await s.attempt(`baton connect ${sizes.connect}, no [assets]`, () => runConnect(hb, s.room("connect"), sizes));
	if (noAssets !== undefined) {
		s.results.baton.withoutAssets = { connect: noAssets.connect, memory: noAssets.memory };
		await finishConnect(hb, noAssets, false);
	}
	const oneSub = await s.attempt(`baton connect ${sizes.connect}, no [assets], one sub`, () => runConnect(hb, s.room("connect1"), sizes, { oneSub: true }));
	if (oneSub !== undefined) {
		s.results.baton.withoutAssetsOneSub = { connect: oneSub.connect };
		await finishConnect(hb, oneSub, false);
	}
}
