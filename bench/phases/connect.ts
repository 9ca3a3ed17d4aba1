/**
 * Phase 1: workloads 1 and 4 (connect 1,000 distinct users, idle memory) on every target, then
 * baton's drain and its reconnect wave (5b) on its connect room, then more connect rounds (rate
 * and CPU are medians over them; memory is the first round's), then the idle-memory diagnostic
 * on a second, fresh bare process with the `welcome` variant (the floor plus the one frame every
 * baton connection gets).
 */
import { pause } from "../lib/load.ts";
import { log, ORDER, type Session } from "../lib/session.ts";
import type { Target, TargetName } from "../lib/targets.ts";
import { type ConnectResult, type ConnectRun, combineConnect, finishConnect, readHibernated, runConnect } from "../workloads/connect.ts";
import { runDrain } from "../workloads/drain.ts";

/** Local workerd hibernates an idle object after about 10 s. */
const HIBERNATION_WAIT_MS = 13_000;

/**
 * The connect's rate and CPU as medians over `sizes.connectRounds` (single runs vary by ±10 %):
 * after the first round above (fresh processes; its memory readings stand), more rounds into
 * rooms of their own, the target order rotated per round.
 */
async function moreConnectRounds(s: Session, first: ReadonlyArray<[Target, ConnectRun]>): Promise<void> {
	const { sizes } = s;
	const results = new Map<RoundTarget, ConnectResult[]>(first.map(([t, run]) => [t.name, [run.connect]]));
	results.set("batonQuiet", []);
	const targetOf = (name: RoundTarget): Target => (name === "batonQuiet" ? s.targets.batonQuiet : s.target(name));
	for (let round = 0; round < sizes.connectRounds; round++) {
		// Round 0 ran above for the comparable targets; the diagnostic's first round is here.
		const names = round === 0 ? (["batonQuiet"] as const) : CONNECT_ORDER.map((_, k) => CONNECT_ORDER[(k + round) % CONNECT_ORDER.length] as RoundTarget);
		if (round > 0) log(`connect, round ${round + 1}/${sizes.connectRounds}`);
		for (const name of names) {
			const into = results.get(name);
			if (into === undefined) continue;
			const run = await s.attempt(`${name} connect ${sizes.connect}`, () => runConnect(targetOf(name), s.room(`connect-r${round}`), sizes));
			if (run === undefined) continue;
			into.push(run.connect);
			await finishConnect(targetOf(name), run, false);
		}
	}
	for (const [name, rounds] of results) {
		if (rounds.length === 0) continue;
		if (name === "batonQuiet") s.results.baton.connectQuiet = combineConnect(rounds);
		else s.of(name).connect = combineConnect(rounds);
	}
}

/** The comparable targets and the LOG_LEVEL=warn diagnostic. */
type RoundTarget = TargetName | "batonQuiet";
const CONNECT_ORDER: readonly RoundTarget[] = [...ORDER, "batonQuiet"];

export async function connectPhase(s: Session): Promise<void> {
	const { sizes } = s;
	log("connect + idle memory (baton's room is then drained and reconnects)");
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
			s.results.baton.drain = await s.attempt(`baton drain ${run.sockets.length} + reconnect wave`, () =>
				runDrain(t, s.room("connect"), run.sockets, run.subs, sizes),
			);
		}
		await finishConnect(t, run, false);
	}
	await moreConnectRounds(s, runs);

	// Diagnostic, on a second bare process as fresh as the first: the floor plus one welcome-sized
	// first frame per connection. baton ÷ this is what baton keeps per connection beyond the
	// runtime's cost of having sent a frame on it.
	const welcome = s.targets.bareWelcome;
	const withWelcome = await s.attempt(`bare connect ${sizes.connect}, + a welcome-sized first frame (diagnostic)`, () =>
		runConnect(welcome, s.room("connectw"), sizes, { variant: "welcome" }),
	);
	if (withWelcome !== undefined) {
		s.results.bareWelcome = { connect: withWelcome.connect, memory: withWelcome.memory };
		await finishConnect(welcome, withWelcome, false);
	}
	await welcome.stop();

	// The same on a third fresh bare process that also sends what baton's count mode sends the
	// others (a presence_count-like frame to every socket, at most once per second, §12).
	const count = s.targets.bareCount;
	const withCount = await s.attempt(`bare connect ${sizes.connect}, + welcome + presence_count traffic (diagnostic)`, () =>
		runConnect(count, s.room("connectc"), sizes, { variant: "count" }),
	);
	if (withCount !== undefined) {
		s.results.bareCount = { connect: withCount.connect, memory: withCount.memory };
		await finishConnect(count, withCount, false);
	}
	await count.stop();
}
