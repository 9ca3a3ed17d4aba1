/**
 * The output of bench/compare.ts: the results document (per-round figures of every target), the
 * summary rows (medians, ratios) and the printed tables — one of headline figures and ratios, one
 * of every round's figure, so the spread is visible.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ConnectResult, MemoryResult } from "../workloads/connect.ts";
import type { EchoResult } from "../workloads/echo.ts";
import type { FanoutResult } from "../workloads/fanout.ts";
import { fmt, pad } from "./report.ts";
import type { RunMeta } from "./run-meta.ts";
import { median, ratio } from "./stats.ts";

/** The table's columns: the current tree, the tree at the ref, and the two references. */
export type Column = "baton" | "ref" | "bare" | "partyserver";
/** Every process: the columns, plus the current tree with clients that send no `read` frames. */
export type CompareTarget = Column | "batonNoReads";

/** One process's figures, indexed by round (null: that round's run failed, see meta.errors). */
export interface CompareTargetResults {
	label: string;
	/** baton: its clients acknowledge with `read` frames. */
	reads: boolean;
	connect: Array<ConnectResult | null>;
	/** Idle memory, read during each round's connect; round 1 is on a fresh process. */
	memory: Array<MemoryResult | null>;
	fanout: Array<FanoutResult | null>;
	/** baton: the fan-out room's head afterwards (every message stored). */
	persistedSeq: Array<number | null>;
	echo: Array<EchoResult | null>;
}

export interface SummaryRow {
	row: string;
	/** Per column: the headline figure and every round's. */
	values: Partial<Record<Column, { headline: number; rounds: number[] }>>;
	ratios: { batonBare: number; refBare: number; batonParty: number; refParty: number; batonRef: number };
}

export interface CompareResults {
	meta: RunMeta & {
		rounds: number;
		/** The ref compared with, as given and as the commit checked out. */
		ref: { given: string; commit: string };
		sizes: { connect: number; fanoutSubscribers: number; fanoutMessages: number; fanoutWindow: number; echoRoundTrips: number };
		/** Anything done to make the ref's tree build or speak to the bench. */
		notes: string[];
	};
	targets: Partial<Record<CompareTarget, CompareTargetResults>>;
	summary: SummaryRow[];
}

export function emptyTargetResults(label: string, reads: boolean): CompareTargetResults {
	return { label, reads, connect: [], memory: [], fanout: [], persistedSeq: [], echo: [] };
}

type Row = {
	label: string;
	digits: number;
	/** `first`: the first round's figure is the headline (a fresh process), not the median. */
	headline?: "first";
	values: (r: CompareResults, c: Column) => number[] | undefined;
};

const each = <T>(runs: ReadonlyArray<T | null> | undefined, f: (x: T) => number): number[] | undefined =>
	runs === undefined || runs.length === 0 ? undefined : runs.map((x) => (x === null ? Number.NaN : f(x)));

const connectRow = (label: string, f: (x: ConnectResult) => number, digits = 1): Row => ({ label, digits, values: (r, c) => each(r.targets[c]?.connect, f) });
const fanoutRow = (label: string, f: (x: FanoutResult) => number, digits = 1): Row => ({ label, digits, values: (r, c) => each(r.targets[c]?.fanout, f) });
/** The baton column from the process whose clients send no reads; the other columns as usual. */
const noReadsRow = (label: string, f: (x: FanoutResult) => number, digits = 1): Row => ({
	label,
	digits,
	values: (r, c) => each((c === "baton" ? r.targets.batonNoReads : r.targets[c])?.fanout, f),
});
const echoRow = (label: string, f: (x: EchoResult) => number): Row => ({ label, digits: 2, values: (r, c) => each(r.targets[c]?.echo, f) });

const ROWS: Row[] = [
	connectRow("connect: connections/s", (x) => x.connectionsPerSec),
	connectRow("connect: handshake p50 ms", (x) => x.handshakeMs.p50, 2),
	connectRow("connect: handshake p99 ms", (x) => x.handshakeMs.p99, 2),
	connectRow("connect: workerd CPU ms/conn", (x) => x.workerdCpuMsPerConnection, 2),
	{ label: "memory: bytes/conn, fresh process [1]", digits: 0, headline: "first", values: (r, c) => each(r.targets[c]?.memory, (x) => x.bytesPerConnection) },
	fanoutRow("fan-out: deliveries/s", (x) => x.deliveriesPerSec),
	fanoutRow("fan-out: latency p50 ms", (x) => x.latencyMs.p50, 2),
	fanoutRow("fan-out: latency p99 ms", (x) => x.latencyMs.p99, 2),
	fanoutRow("fan-out: CPU µs/delivery", (x) => x.workerdCpuUsPerDelivery, 2),
	fanoutRow("fan-out: client CPU share", (x) => x.clientCpuShare, 2),
	noReadsRow("fan-out, baton no reads [2]: deliveries/s", (x) => x.deliveriesPerSec),
	noReadsRow("fan-out, baton no reads [2]: p99 ms", (x) => x.latencyMs.p99, 2),
	noReadsRow("fan-out, baton no reads [2]: CPU µs/del", (x) => x.workerdCpuUsPerDelivery, 2),
	echoRow("echo: RTT p50 ms", (x) => x.rttMs.p50),
	echoRow("echo: RTT p99 ms", (x) => x.rttMs.p99),
];

const COLUMNS: readonly Column[] = ["baton", "ref", "bare", "partyserver"];

function headlineOf(row: Row, values: number[]): number {
	return row.headline === "first" ? (values[0] ?? Number.NaN) : median(values);
}

/** The summary rows (headline figure per column, ratios of the headlines), for the JSON and the tables. */
export function summarizeCompare(r: CompareResults): SummaryRow[] {
	const out: SummaryRow[] = [];
	for (const row of ROWS) {
		const values: SummaryRow["values"] = {};
		for (const c of COLUMNS) {
			const v = row.values(r, c);
			if (v !== undefined) values[c] = { headline: headlineOf(row, v), rounds: v };
		}
		if (Object.keys(values).length === 0) continue;
		const h = (c: Column) => values[c]?.headline;
		out.push({
			row: row.label,
			values,
			ratios: {
				batonBare: ratio(h("baton"), h("bare")),
				refBare: ratio(h("ref"), h("bare")),
				batonParty: ratio(h("baton"), h("partyserver")),
				refParty: ratio(h("ref"), h("partyserver")),
				batonRef: ratio(h("baton"), h("ref")),
			},
		});
	}
	return out;
}

const digitsOf = (label: string): number => ROWS.find((x) => x.label === label)?.digits ?? 1;

export function formatCompare(r: CompareResults): string {
	const refName = `baton@${r.meta.ref.commit}`;
	const widths = [42, 11, 13, 11, 11, 10, 8, 11, 9, 9];
	const lines = [pad(["workload", "baton", refName, "bare", "partyserver", "baton/bare", "ref/bare", "baton/party", "ref/party", "baton/ref"], widths)];
	lines.push("-".repeat(widths.reduce((a, w) => a + w + 2, 0)));
	for (const s of r.summary) {
		const d = digitsOf(s.row);
		const cell = (c: Column) => fmt(s.values[c]?.headline, d);
		const q = s.ratios;
		lines.push(pad([s.row, ...COLUMNS.map(cell), ...[q.batonBare, q.refBare, q.batonParty, q.refParty, q.batonRef].map((x) => fmt(x, 2))], widths));
	}
	lines.push(`medians over ${r.meta.rounds} interleaved round(s), order rotated per round; ratios are of the medians`);
	const reads = r.targets.ref?.reads === true ? "its clients send `read` frames" : "its clients send no `read` frames (its protocol has none)";
	lines.push(`ref = ${refName}: the project at ${r.meta.ref.given}, its own wrangler.toml, the same vars; ${reads}`);
	lines.push("[1] the first round's figure: every process fresh then (RSS deltas depend on a process's history); later rounds below");
	lines.push(
		"[2] the baton column is a second process of the current tree whose clients send no `read` frames, SEND_BUFFER_MAX_BYTES and SEND_BUFFER_ROOM_MAX_BYTES raised to 1 GiB (else a full fan-out is cut 4013): baton without the cost of §13's reads",
	);
	return lines.join("\n");
}

/** Every round's figure per column, and baton ÷ ref per round (the rounds of a workload run back to back). */
export function formatRounds(r: CompareResults): string {
	const refName = `baton@${r.meta.ref.commit}`;
	const n = r.meta.rounds;
	const cellWidth = Math.max(11, n * 9);
	const widths = [42, cellWidth, cellWidth, cellWidth, cellWidth, Math.max(9, n * 6)];
	const lines = [`per round (${Array.from({ length: n }, (_, i) => `r${i + 1}`).join(" · ")}):`];
	lines.push(pad(["workload", "baton", refName, "bare", "partyserver", "baton/ref"], widths));
	lines.push("-".repeat(widths.reduce((a, w) => a + w + 2, 0)));
	for (const s of r.summary) {
		const d = digitsOf(s.row);
		const cell = (c: Column) => {
			const v = s.values[c]?.rounds;
			return v === undefined ? "—" : v.map((x) => fmt(x, d)).join(" · ");
		};
		const a = s.values.baton?.rounds ?? [];
		const b = s.values.ref?.rounds ?? [];
		const perRound = a.length === 0 || b.length === 0 ? "—" : a.map((x, i) => fmt(ratio(x, b[i]), 2)).join(" · ");
		lines.push(pad([s.row, ...COLUMNS.map(cell), perRound], widths));
	}
	return lines.join("\n");
}

export function writeCompareResults(r: CompareResults, dir: string): string {
	mkdirSync(dir, { recursive: true });
	const file = join(dir, `compare-${r.meta.startedAt.replace(/[:.]/g, "-")}.json`);
	writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
	return file;
}
