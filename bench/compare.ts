/**
 * `npm run bench:compare -- --ref <commit> [--rounds N] [--quick]` — the current tree against the
 * project at an earlier commit, in one run: `baton` (the current tree, started as bench/run.ts
 * starts it), `baton@<ref>` (a detached git worktree of the ref in `.bench-ref/`, its own
 * wrangler.toml, the same vars), `bare` and `partyserver` (for the ratios), and one more process of
 * the current tree whose clients send no `read` frames. Connect + idle memory, fan-out and echo
 * run in interleaved rounds (order rotated per round); every measured run starts once the targets'
 * workerds are quiet. Prints a table (medians, ratios) and every round's figures, and writes
 * bench/results/compare-<timestamp>.json. The worktree is removed at the end, on error and on
 * Ctrl-C. See bench/README.md ("Comparing with an earlier commit").
 */
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
	type Column,
	type CompareResults,
	type CompareTarget,
	type CompareTargetResults,
	emptyTargetResults,
	formatCompare,
	formatRounds,
	summarizeCompare,
	writeCompareResults,
} from "./lib/compare-report.ts";
import { now, pause } from "./lib/load.ts";
import { runGuarded, runMeta } from "./lib/run-meta.ts";
import { attempt, log } from "./lib/session.ts";
import { type Mode, sizesFor } from "./lib/sizes.ts";
import { ROOT, removeSnapshots } from "./lib/snapshot.ts";
import { NO_READS_VARS, Target } from "./lib/targets.ts";
import { addRefWorktree, type RefWorktree, resolveRef } from "./lib/worktree.ts";
import { stopAllProcesses } from "./lib/wrangler.ts";
import { finishConnect, runConnect } from "./workloads/connect.ts";
import { runEcho } from "./workloads/echo.ts";
import { runFanout } from "./workloads/fanout.ts";

const USAGE = "usage: npm run bench:compare -- --ref <commit> [--rounds N] [--quick]";
const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
	const i = argv.indexOf(name);
	return i === -1 ? undefined : argv[i + 1];
};
const ref = option("--ref");
if (ref === undefined || ref.startsWith("--")) {
	console.error(USAGE);
	process.exit(2);
}
if (resolveRef(ref) === null) {
	console.error(`--ref ${ref}: not a commit of this repository\n${USAGE}`);
	process.exit(2);
}
const mode: Mode = argv.includes("--quick") ? "quick" : "full";
const sizes = sizesFor(mode);
const roundsOption = option("--rounds");
const rounds = roundsOption === undefined ? sizes.rounds : Number(roundsOption);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) {
	console.error(`--rounds must be an integer from 1 to 20\n${USAGE}`);
	process.exit(2);
}
/** State on tmpfs, as the main bench's fan-out (local fsync latency is not the edge's). */
const stateBase = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
/** Send budgets for the process whose clients never read: high enough that no fan-out is cut 4013. */
/** Hard stop for the whole run (each workload is bounded on its own; this is the safety net). */
const WATCHDOG_MS = 180_000 + rounds * (mode === "quick" ? 60_000 : 300_000);

/** Every run starts when the targets' workerds together use less than this share of a core… */
const QUIET_CPU_SHARE = 0.05;
const QUIET_WINDOW_MS = 250;
/** …or after this long (a previous run's tail, e.g. an old room's leave broadcasts). */
const QUIET_MAX_MS = 10_000;

const COLUMN_ORDER: readonly Column[] = ["bare", "partyserver", "ref", "baton"];
const FANOUT_ORDER: readonly CompareTarget[] = [...COLUMN_ORDER, "batonNoReads"];

const rotate = <T>(list: readonly T[], round: number): T[] => list.map((_, k) => list[(k + round) % list.length] as T);

/** Waits (bounded) until the targets' workerds are near idle, so one run's tail does not fall in the next. */
async function quiesce(targets: readonly Target[]): Promise<number> {
	const started = now();
	const total = () => targets.reduce((a, t) => a + t.proc.cpuMs(), 0);
	let last = total();
	while (now() - started < QUIET_MAX_MS) {
		await pause(QUIET_WINDOW_MS);
		const cpu = total();
		if (cpu - last < QUIET_WINDOW_MS * QUIET_CPU_SHARE) return now() - started;
		last = cpu;
	}
	log(`  (still busy after ${QUIET_MAX_MS / 1000} s; going on)`);
	return now() - started;
}

function newResults(started: number, given: string): CompareResults {
	return {
		meta: {
			...runMeta(started, mode, stateBase),
			rounds,
			ref: { given, commit: "" },
			sizes: {
				connect: sizes.connect,
				fanoutSubscribers: sizes.fanoutSubscribers,
				fanoutMessages: sizes.fanoutMessages,
				fanoutWindow: sizes.fanoutWindow,
				echoRoundTrips: sizes.echoRoundTrips,
			},
			notes: [],
		},
		targets: {},
		summary: [],
	};
}

async function runRounds(results: CompareResults, targets: Record<CompareTarget, Target>, runId: string): Promise<void> {
	const errors = results.meta.errors;
	const all = Object.values(targets);
	const into = (name: CompareTarget): CompareTargetResults => {
		const t = targets[name];
		const existing = results.targets[name];
		if (existing !== undefined) return existing;
		const created = emptyTargetResults(t.label, t.reads);
		results.targets[name] = created;
		return created;
	};
	const room = (kind: string) => `${kind}-${runId}`;
	for (let round = 0; round < rounds; round++) {
		log(`round ${round + 1}/${rounds}: connect ${sizes.connect} + idle memory`);
		for (const name of rotate(COLUMN_ORDER, round)) {
			const t = targets[name];
			await quiesce(all);
			const run = await attempt(errors, `${t.label} connect ${sizes.connect}`, () => runConnect(t, room(`connect${round}`), sizes));
			into(name).connect[round] = run?.connect ?? null;
			into(name).memory[round] = run?.memory ?? null;
			if (run === undefined) continue;
			if (run.connect.failures > 0)
				errors.push(`${t.label} connect, round ${round + 1}: ${run.connect.failures} failed (${run.connect.failureSamples.join("; ")})`);
			await finishConnect(t, run, false);
		}
		log(`round ${round + 1}/${rounds}: fan-out ${sizes.fanoutSubscribers}×${sizes.fanoutMessages}, window ${sizes.fanoutWindow}`);
		for (const name of rotate(FANOUT_ORDER, round)) {
			const t = targets[name];
			const fanoutRoom = room(`fanout${round}`);
			await quiesce(all);
			// The clock starts after the subscribers' joins have been handled (the ref's room sends each join to everyone).
			const r = await attempt(errors, `${t.label} fan-out`, () => runFanout(t, fanoutRoom, sizes, { beforeSend: () => quiesce(all).then(() => undefined) }));
			into(name).fanout[round] = r ?? null;
			if (r !== undefined && r.delivered < r.expected) {
				errors.push(`${t.label} fan-out, round ${round + 1}: ${r.delivered}/${r.expected} delivered${r.timedOut ? " (timed out)" : ""}`);
			}
			if (t.name !== "baton") continue;
			const seq = (await attempt(errors, `${t.label} stats`, () => t.batonStats(fanoutRoom)))?.seq ?? null;
			into(name).persistedSeq[round] = seq;
			if (r !== undefined && seq !== null && seq < r.messages)
				errors.push(`${t.label} fan-out, round ${round + 1}: the room's head is ${seq}, ${r.messages} published`);
		}
		log(`round ${round + 1}/${rounds}: echo ${sizes.echoRoundTrips}`);
		for (const name of rotate(COLUMN_ORDER, round)) {
			const t = targets[name];
			await quiesce(all);
			const r = await attempt(errors, `${t.label} echo`, () => runEcho(t, room(`echo${round}`), sizes));
			into(name).echo[round] = r ?? null;
		}
	}
}

function print(results: CompareResults, file: string): void {
	log("");
	log(formatCompare(results));
	log("");
	log(formatRounds(results));
	log("");
	for (const note of results.meta.notes) log(`note: ${note}`);
	const errors = results.meta.errors;
	log(`${errors.length} error(s)${errors.length > 0 ? `:\n  ${errors.join("\n  ")}` : ""}`);
	log(`load average ${results.meta.loadAverage.start} at start, ${results.meta.loadAverage.end} at end`);
	log(`written ${file} (${(results.meta.durationMs / 1000).toFixed(0)} s)`);
}

async function main(given: string): Promise<void> {
	const started = Date.now();
	const results = newResults(started, given);
	let worktree: RefWorktree | null = null;
	// Last resort (watchdog exit, an uncaught error): the worktree goes with the process.
	process.once("exit", () => worktree?.remove());
	const cleanUp = async () => {
		await stopAllProcesses();
		removeSnapshots();
		worktree?.remove();
	};
	await runGuarded(results.meta, started, WATCHDOG_MS, cleanUp, async () => {
		log(`baton compare with ${given} (${mode}, ${rounds} rounds, state in ${stateBase}): checking out the ref…`);
		const wt = addRefWorktree(given);
		worktree = wt;
		results.meta.ref.commit = wt.commit;
		log(`  ${given} = ${wt.commit} in ${wt.dir}; starting targets…`);
		const refLabel = `baton@${wt.commit}`;
		// As bench/run.ts starts its targets (no inspector attached, traffic to the user Worker's socket).
		const common = { viaProxy: false, stateBase, inspector: false };
		const [baton, refTarget, batonNoReads, bare, partyserver] = await Promise.all([
			Target.start("baton", common),
			Target.start("baton", { ...common, config: wt.config, variant: refLabel, reads: wt.readFrames }),
			Target.start("baton", {
				...common,
				variant: "baton-noreads",
				label: "baton, no reads",
				reads: false,
				vars: NO_READS_VARS,
			}),
			Target.start("bare", common),
			Target.start("partyserver", common),
		]);
		results.meta.notes.push(
			wt.readFrames
				? `${refLabel}: its protocol has \`read\` frames; its clients send them, as the current tree's do`
				: `${refLabel}: its protocol has no \`read\` frames; its clients send none (a room from before them answers an unknown frame type with bad_message, and closes 1008 after 10 in a minute)`,
		);
		log(`targets ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
		await runRounds(results, { baton, ref: refTarget, batonNoReads, bare, partyserver }, started.toString(36));
	});
	results.summary = summarizeCompare(results);
	print(results, writeCompareResults(results, join(ROOT, "bench/results")));
	if (results.meta.errors.length > 0) process.exitCode = 1;
}

await main(ref);
// Every socket and timer is closed by now; exit explicitly so a straggler cannot hold the CLI.
process.exit();
