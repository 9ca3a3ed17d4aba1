/**
 * `npm run bench` — baton against the runtime's floor (a bare hibernation Durable Object) and
 * partyserver, each a real `wrangler dev` on loopback. Flags: `--quick` (small sizes, < 3 min),
 * `--via-proxy` (go through wrangler's local proxy), `--disk-state` (persist to disk instead of
 * tmpfs), `--profile` (add CPU profiles of a fan-out run per target). Prints a table and writes
 * bench/results/<timestamp>.json and latest.json. See bench/README.md.
 */
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BenchResults, evaluateBars, formatBars, formatBaton, formatProfiles, formatTable, writeResults } from "./lib/report.ts";
import { runGuarded, runMeta } from "./lib/run-meta.ts";
import { log, Session } from "./lib/session.ts";
import { type Mode, sizesFor } from "./lib/sizes.ts";
import { ROOT, removeSnapshots } from "./lib/snapshot.ts";
import { BENCH_HEARTBEAT, NO_READS_VARS, Target } from "./lib/targets.ts";
import { stopAllProcesses } from "./lib/wrangler.ts";
import { batonPhase } from "./phases/baton.ts";
import { connectPhase } from "./phases/connect.ts";
import { throughputPhase } from "./phases/throughput.ts";
import { runIdle } from "./workloads/idle.ts";

const args = new Set(process.argv.slice(2));
const mode: Mode = args.has("--quick") ? "quick" : "full";
const viaProxy = args.has("--via-proxy");
const profile = args.has("--profile");
/** Persisted state on tmpfs by default: local fsync latency is not the edge's storage latency. */
const stateBase = !args.has("--disk-state") && existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
/** The fan-out on disk: a durable commit per message is what baton sells (bench/README.md). */
const diskBase = tmpdir();
const sizes = sizesFor(mode);
/** Hard stop for the whole run (each workload is bounded on its own; this is the safety net). */
const WATCHDOG_MS = mode === "quick" ? 240_000 : 900_000;

function newResults(started: number): BenchResults {
	return {
		meta: { ...runMeta(started, mode, stateBase), viaProxy },
		targets: {},
		baton: {},
		bars: [],
	};
}

function print(results: BenchResults, written: { file: string; latest: string }): void {
	log("");
	log(formatTable(results));
	log("");
	log(formatBaton(results));
	log("");
	log(formatBars(results.bars));
	log("");
	if (results.profiles !== undefined || results.connectProfile !== undefined) {
		log(formatProfiles(results));
		log("");
	}
	const errors = results.meta.errors;
	log(`${errors.length} error(s)${errors.length > 0 ? `:\n  ${errors.join("\n  ")}` : ""}`);
	log(`written ${written.file} and ${written.latest} (${(results.meta.durationMs / 1000).toFixed(0)} s)`);
}

async function main(): Promise<void> {
	const started = Date.now();
	const results = newResults(started);
	const cleanUp = () => stopAllProcesses().then(removeSnapshots);
	await runGuarded(results.meta, started, WATCHDOG_MS, cleanUp, async () => {
		log(`baton bench (${mode}${viaProxy ? ", via wrangler's proxy" : ""}, state in ${stateBase}): starting targets…`);
		// Without wrangler's inspector proxy attached, as on the edge (lib/wrangler.ts); `--profile`
		// needs it on the profiled targets.
		const common = { viaProxy, stateBase, inspector: profile };
		const onDisk = { ...common, stateBase: diskBase };
		const [baton, batonHb, bare, bareWelcome, bareCount, partyserver, batonDisk, bareDisk, batonQuiet, batonNoReads] = await Promise.all([
			Target.start("baton", common),
			// Heartbeat and idle rooms; its heartbeat run is profiled, so its inspector stays attached.
			Target.start("baton", {
				...common,
				inspector: true,
				variant: "baton-hb",
				vars: { HEARTBEAT_INTERVAL_MS: String(BENCH_HEARTBEAT.intervalMs), HEARTBEAT_TIMEOUT_MS: String(BENCH_HEARTBEAT.timeoutMs) },
			}),
			Target.start("bare", common),
			// Diagnostic: bare + one welcome-sized first frame per connection, fresh for its idle memory.
			Target.start("bare", { ...common, variant: "bare-welcome" }),
			// Diagnostic: the same plus the presence_count traffic of baton's count mode.
			Target.start("bare", { ...common, variant: "bare-count" }),
			Target.start("partyserver", common),
			// State on disk: baton and the persisting floor (bare + one SQLite insert per message).
			Target.start("baton", { ...onDisk, variant: "baton-disk" }),
			Target.start("bare", { ...onDisk, variant: "bare-disk" }),
			// Diagnostic: what the connect costs without its one log line (LOG_LEVEL=warn).
			Target.start("baton", { ...common, variant: "baton-quiet", vars: { LOG_LEVEL: "warn" } }),
			// Diagnostic: the fan-out when clients send no `read` frames (what §13's reads cost).
			Target.start("baton", { ...common, variant: "baton-noreads", reads: false, vars: NO_READS_VARS }),
		]);
		const s = new Session(sizes, started.toString(36), results, {
			baton,
			batonHb,
			bare,
			bareWelcome,
			bareCount,
			partyserver,
			batonDisk,
			bareDisk,
			batonQuiet,
			batonNoReads,
		});
		log(`targets ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
		// The idle-room observation (10 pinging clients per room) is mostly waiting: it runs in the
		// background during the connect phase. Its end (stats reads on a busy process, closing its
		// sockets) must not fall inside a fan-out round, so the rounds wait for it.
		const idle = s.attempt("idle rooms (background)", () => runIdle(batonHb, bare, s.room("idle"), sizes));
		await connectPhase(s);
		log("waiting for the background idle-room observation to end");
		await idle;
		await throughputPhase(s, profile);
		await batonPhase(s, idle, profile);
	});
	results.bars = evaluateBars(results);
	print(results, writeResults(results, join(ROOT, "bench/results")));
	if (results.meta.errors.length > 0) process.exitCode = 1;
}

await main();
// Every socket and timer is closed by now; exit explicitly so a straggler cannot hold the CLI.
process.exit();
