/**
 * Phase 1: workloads 1 and 4 on every target, then baton's drain (5b) on its connect room, then
 * the one-sub diagnostic (workloads 1 and 4, every socket the same user) on a second, fresh baton
 * process, and the bare + presence diagnostic (workloads 1 and 4 on the bare target's `presence`
 * variant: the floor plus baton's welcome and join frames) on a second, fresh bare process.
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

	// Diagnostic, on a second baton process as fresh as the first was (RSS deltas are
	// order-sensitive): the same connect with every socket sharing one sub. No presence fan-out on
	// join (each distinct user's join is broadcast to every socket: O(N²) frames), so its
	// connect rate, CPU and idle memory are baton's per-connection cost without that traffic.
	const diag = s.targets.batonOneSub;
	const oneSub = await s.attempt(`baton connect ${sizes.connect}, one sub (diagnostic)`, () => runConnect(diag, s.room("connect1"), sizes, { oneSub: true }));
	if (oneSub !== undefined) {
		s.results.baton.oneSub = { connect: oneSub.connect, memory: oneSub.memory };
		await finishConnect(diag, oneSub, false);
	}
	// Nothing else runs on it: free its share of the machine for the rest of the run.
	await diag.stop();

	// Diagnostic, on a second bare process as fresh as the first: the floor plus the frames baton
	// sends on connect with distinct users (a welcome-sized first frame to the new socket, a join
	// to every other socket), nothing else of baton. baton ÷ this separates baton's own
	// per-connection state from the runtime's cost of that presence traffic.
	const presence = s.targets.barePresence;
	const withPresence = await s.attempt(`bare connect ${sizes.connect}, + presence traffic (diagnostic)`, () =>
		runConnect(presence, s.room("connectp"), sizes, { variant: "presence" }),
	);
	if (withPresence !== undefined) {
		s.results.barePresence = { connect: withPresence.connect, memory: withPresence.memory };
		await finishConnect(presence, withPresence, false);
	}
	await presence.stop();
}
