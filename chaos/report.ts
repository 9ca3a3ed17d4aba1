/** The run's one-line summary and its JSON record under chaos/results/. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { percentile } from "../bench/lib/stats.ts";
import type { CheckTotals, Failure } from "./checker.ts";
import type { FaultRecord } from "./faults.ts";
import type { ChaosOptions } from "./options.ts";

export interface ChaosReport {
	seed: number;
	options: Omit<ChaosOptions, "log">;
	ok: boolean;
	/** Wall time of the whole run, cluster start to stop. */
	durationMs: number;
	/** Time spent injecting faults (the loop), and at quiescence. */
	injectMs: number;
	quiesceMs: number;
	faults: { total: number; byKind: Record<string, number>; tokenVia: { inBand: number; unauthorized: number; authOk: number; fetched: number } };
	totals: CheckTotals;
	recovery: {
		n: number;
		p50: number | null;
		p99: number | null;
		max: number | null;
		slow: number;
		byKind: Record<string, { n: number; p50: number | null; p99: number | null }>;
	};
	heads: Record<string, number>;
	closes: Record<string, number>;
	clients: { sdk: number; raw: number; readOnly: number; rotatingTokens: number; incarnations: number };
	scanned: { lines: number; bytes: number; tokens: number };
	/** Why the run stopped injecting: the fault count or the time bound. */
	stoppedBy: "faults" | "minutes";
	failures: Failure[];
	/** The first divergent seq over all failures that have one. */
	firstDivergentSeq: number | null;
	/** When (ms since the start) the message at that seq was published, to find the faults around it. */
	firstDivergentAtMs: number | null;
	faultLog: FaultRecord[];
	/** Harness trouble (a process that would not start): the run could not judge the project. */
	harnessError?: string;
}

function pct(sorted: number[], p: number): number | null {
	return sorted.length === 0 ? null : Math.round(percentile(sorted, p));
}

/** p50/p99/max of recovery times, overall and per fault kind. */
export function recoveryFigures(faults: readonly FaultRecord[], slow: number): ChaosReport["recovery"] {
	const times = faults.flatMap((f) => (f.recoveryMs === null ? [] : [f.recoveryMs])).sort((a, b) => a - b);
	const byKind: ChaosReport["recovery"]["byKind"] = {};
	for (const kind of new Set(faults.map((f) => f.kind))) {
		const t = faults.flatMap((f) => (f.kind === kind && f.recoveryMs !== null ? [f.recoveryMs] : [])).sort((a, b) => a - b);
		byKind[kind] = { n: t.length, p50: pct(t, 50), p99: pct(t, 99) };
	}
	return { n: times.length, p50: pct(times, 50), p99: pct(times, 99), max: times.length === 0 ? null : (times[times.length - 1] ?? null), slow, byKind };
}

export function summaryLine(r: ChaosReport): string {
	const kinds = Object.entries(r.faults.byKind)
		.map(([k, n]) => `${k}=${n}`)
		.join(" ");
	const t = r.totals;
	const rec = r.recovery;
	return [
		`chaos ${r.ok ? "PASS" : "FAIL"} seed=${r.seed}`,
		`faults=${r.faults.total} (${kinds}; token in-band=${r.faults.tokenVia.inBand} 4001=${r.faults.tokenVia.unauthorized} fetched=${r.faults.tokenVia.fetched})`,
		`publishes=${t.publishes} acked=${t.acked} deliveries=${t.deliveries}`,
		`lost=${t.lost} duplicated=${t.duplicated} out-of-order=${t.outOfOrder}`,
		`reconnects=${t.reconnects}`,
		`caught-up p50=${rec.p50 ?? "-"}ms p99=${rec.p99 ?? "-"}ms (n=${rec.n}, slow=${rec.slow})`,
		`${Math.round(r.durationMs / 1000)}s`,
		r.ok ? "" : `failures=${r.failures.length} first-divergent-seq=${r.firstDivergentSeq ?? "-"}`,
	]
		.filter((s) => s !== "")
		.join(" ");
}

/** Writes the report as JSON; returns the path. */
export function writeReport(dir: string, r: ChaosReport): string {
	mkdirSync(dir, { recursive: true });
	const stamp = new Date().toISOString().replace(/[:.]/g, "-");
	const path = join(dir, `chaos-${r.seed}-${stamp}.json`);
	writeFileSync(path, `${JSON.stringify(r, null, 1)}\n`);
	return path;
}
