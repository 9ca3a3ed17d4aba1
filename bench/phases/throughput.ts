/**
 * Phase 2: workloads 2 (fan-out) and 3 (echo) in interleaved rounds, the order rotated each round
 * so slow drifts in machine load fall on every target alike; medians are reported. The fan-out
 * runs with state on tmpfs (bare, partyserver, baton) and on disk (the persisting floor — bare
 * with one SQLite insert per message — and baton). With `--profile`, one more profiled fan-out per
 * target. Then one fan-out on each ablation of the bare target on tmpfs, and the cost of one
 * inbound frame with nothing broadcast (bare ping, bare empty event, baton `read`).
 */
import { log, ORDER, type Session } from "../lib/session.ts";
import { Target, type TargetName } from "../lib/targets.ts";
import { combineEcho, type EchoResult, runEcho } from "../workloads/echo.ts";
import { combineFanout, type FanoutResult, PUBLISHER_SUB, runFanout } from "../workloads/fanout.ts";
import { runInboundCosts } from "../workloads/inbound.ts";
import { runProfiledFanout } from "../workloads/profile.ts";

/**
 * `bareBytes`: the bare room sent publish frames padded to the size of baton's `message` frame, so
 * it broadcasts the same bytes per delivery: the floor for baton's frames (a delivery's cost grows
 * with its size).
 */
type FanoutTarget = TargetName | "bareDisk" | "batonDisk" | "bareBytes" | "batonNoReads";
const FANOUT_ORDER: readonly FanoutTarget[] = [...ORDER, "bareBytes", "batonNoReads", "bareDisk", "batonDisk"];

export async function throughputPhase(s: Session, profile: boolean): Promise<void> {
	const { sizes } = s;
	const fanouts: Record<FanoutTarget, FanoutResult[]> = { baton: [], bare: [], partyserver: [], bareBytes: [], batonNoReads: [], bareDisk: [], batonDisk: [] };
	const sameBytes = Target.paddedPublishFrame(Target.messageFrameExtra(PUBLISHER_SUB, sizes.fanoutMessages));
	const echoes: Record<TargetName, EchoResult[]> = { baton: [], bare: [], partyserver: [] };
	const persisted: Partial<Record<"baton" | "batonDisk", number>> = {};
	const targetOf = (name: FanoutTarget): Target =>
		name === "bareDisk"
			? s.targets.bareDisk
			: name === "batonDisk"
				? s.targets.batonDisk
				: name === "bareBytes"
					? s.targets.bare
					: name === "batonNoReads"
						? s.targets.batonNoReads
						: s.target(name);
	for (let round = 0; round < sizes.rounds; round++) {
		const order = FANOUT_ORDER.map((_, k) => FANOUT_ORDER[(k + round) % FANOUT_ORDER.length] as FanoutTarget);
		log(`fan-out and echo, round ${round + 1}/${sizes.rounds}`);
		for (const name of order) {
			const room = s.room(`fanout${round}`);
			const target = targetOf(name);
			const r = await s.attempt(`${name} fan-out ${sizes.fanoutSubscribers}×${sizes.fanoutMessages}`, () =>
				runFanout(target, room, sizes, {}, name === "bareDisk" ? { variant: "persist" } : {}, name === "bareBytes" ? sameBytes : Target.publishFrame),
			);
			if (r === undefined) continue;
			fanouts[name].push(r);
			// "While baton persists every message": its room's head must be the number published.
			if (name === "baton" || name === "batonDisk") persisted[name] = (await s.attempt(`${name} stats`, () => target.batonStats(room)))?.seq;
		}
		for (const name of ORDER) {
			const r = await s.attempt(`${name} echo ${sizes.echoRoundTrips}`, () => runEcho(s.target(name), s.room(`echo${round}`), sizes));
			if (r !== undefined) echoes[name].push(r);
		}
	}
	for (const name of ORDER) {
		const into = s.of(name);
		const seq = name === "baton" ? persisted.baton : undefined;
		if (fanouts[name].length > 0) into.fanout = { ...combineFanout(fanouts[name]), ...(seq === undefined ? {} : { persistedSeq: seq }) };
		if (echoes[name].length > 0) into.echo = combineEcho(echoes[name]);
	}
	if (fanouts.bareDisk.length > 0) s.of("bare").fanoutDisk = combineFanout(fanouts.bareDisk);
	if (fanouts.bareBytes.length > 0) s.of("bare").fanoutSameBytes = combineFanout(fanouts.bareBytes);
	if (fanouts.batonNoReads.length > 0) s.results.baton.fanoutNoReads = combineFanout(fanouts.batonNoReads);
	if (fanouts.batonDisk.length > 0) {
		const seq = persisted.batonDisk;
		s.of("baton").fanoutDisk = { ...combineFanout(fanouts.batonDisk), ...(seq === undefined ? {} : { persistedSeq: seq }) };
	}
	// Ablations: the floor plus one of baton's costs, to attribute the gap (one round each).
	for (const variant of ["persist", "attach"] as const) {
		const r = await s.attempt(`bare+${variant} fan-out`, () => runFanout(s.targets.bare, s.room(`ablation-${variant}`), sizes, {}, { variant }));
		if (r !== undefined) s.results.ablations = { ...s.results.ablations, [variant]: r };
	}
	const inbound = await s.attempt("inbound frame costs", () => runInboundCosts(s.targets.bare, s.target("baton"), (name) => s.room(name), sizes));
	if (inbound !== undefined) s.results.inbound = inbound;
	if (!profile) return;
	log("profiles (fan-out with the inspector attached)");
	for (const name of ORDER) {
		const p = await s.attempt(`${name} profile`, () => runProfiledFanout(s.target(name), s.room("profile"), sizes));
		if (p !== undefined) s.results.profiles = { ...s.results.profiles, [name]: p };
	}
}
