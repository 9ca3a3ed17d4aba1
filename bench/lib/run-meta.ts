/**
 * What every bench entry (bench/run.ts, bench/compare.ts) records about its run and how it is
 * kept bounded: the machine and tree facts of `meta`, and the watchdog and signal handlers that
 * stop the targets so partial results are still written.
 */
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { loadAverage } from "./procfs.ts";
import { log } from "./session.ts";
import type { Mode } from "./sizes.ts";
import { ROOT } from "./snapshot.ts";

export interface RunMeta {
	startedAt: string;
	mode: Mode;
	durationMs: number;
	stateDir: string;
	node: string;
	cpus: number;
	/** One-minute load average at the start and the end (read ratios from quiet runs). */
	loadAverage: { start: number; end: number };
	commit: string;
	/** The room's code differs from `commit` (uncommitted changes under src, durable-objects, protocol). */
	dirty: boolean;
	errors: string[];
}

function git(argv: string[]): string {
	try {
		return execFileSync("git", argv, { cwd: ROOT, encoding: "utf8" }).trim();
	} catch {
		return "";
	}
}

export function runMeta(started: number, mode: Mode, stateDir: string): RunMeta {
	return {
		startedAt: new Date(started).toISOString(),
		mode,
		durationMs: 0,
		stateDir,
		node: process.version,
		cpus: cpus().length,
		loadAverage: { start: loadAverage(), end: Number.NaN },
		commit: git(["rev-parse", "--short", "HEAD"]),
		dirty: git(["status", "--porcelain", "--", "src", "durable-objects", "protocol", "wrangler.toml"]) !== "",
		errors: [],
	};
}

/** The run ended (`started` as given to runMeta): its duration and closing load average. */
export function finishMeta(meta: RunMeta, started: number): void {
	meta.durationMs = Date.now() - started;
	meta.loadAverage.end = loadAverage();
}

/**
 * Bounds a run: after `watchdogMs`, and on SIGINT / SIGTERM, `cleanUp` stops the targets (every
 * remaining workload then fails fast, so partial results are still written); the hard exit 30 s
 * after the watchdog is the last resort. Returns the function that disarms the watchdog.
 */
function guardRun(meta: RunMeta, watchdogMs: number, cleanUp: () => Promise<void>): () => void {
	const watchdog = setTimeout(() => {
		log(`watchdog: the run exceeded ${watchdogMs / 1000} s; stopping targets`);
		meta.errors.push(`watchdog: stopped after ${watchdogMs / 1000} s`);
		void cleanUp();
		setTimeout(() => process.exit(2), 30_000).unref();
	}, watchdogMs);
	const onSignal = () => void cleanUp().then(() => process.exit(130));
	process.once("SIGINT", onSignal);
	process.once("SIGTERM", onSignal);
	return () => clearTimeout(watchdog);
}

/**
 * Runs `body` under {@link guardRun}: an error it throws is recorded in `meta.errors` (partial
 * results are still written), `cleanUp` runs once it ends either way, and the meta gets its
 * duration and end load.
 */
export async function runGuarded(meta: RunMeta, started: number, watchdogMs: number, cleanUp: () => Promise<void>, body: () => Promise<void>): Promise<void> {
	const disarm = guardRun(meta, watchdogMs, cleanUp);
	try {
		await body();
	} catch (err) {
		meta.errors.push(err instanceof Error ? err.message : String(err));
	} finally {
		disarm();
		await cleanUp();
	}
	finishMeta(meta, started);
}
