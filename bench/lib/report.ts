/**
 * The bench's output: the results document (JSON), the project's performance bars evaluated on
 * it, and a printed table with absolute figures and baton/bare, baton/partyserver ratios.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ConnectResult, MemoryResult } from "../workloads/connect.ts";
import type { DrainResult } from "../workloads/drain.ts";
import type { EchoRounds } from "../workloads/echo.ts";
import type { FanoutResult, FanoutRounds } from "../workloads/fanout.ts";
import type { HeartbeatResult } from "../workloads/heartbeat.ts";
import type { IdleResult } from "../workloads/idle.ts";
import type { InboundCosts, InboundResult } from "../workloads/inbound.ts";
import type { MigrationResult } from "../workloads/migration.ts";
import type { PresenceResult } from "../workloads/presence.ts";
import type { ConnectProfile, FanoutProfile } from "../workloads/profile.ts";
import type { ReplayResult } from "../workloads/replay.ts";
import type { CostModel } from "./cost.ts";
import type { RunMeta } from "./run-meta.ts";
import { ratio, round } from "./stats.ts";
import type { TargetName } from "./targets.ts";

export interface TargetResults {
	connect?: ConnectResult;
	memory?: MemoryResult;
	fanout?: FanoutRounds & { persistedSeq?: number };
	/** State on disk (bare: its `persist` variant, the persisting floor). */
	fanoutDisk?: FanoutRounds & { persistedSeq?: number };
	/** bare only: its publish frames padded to baton's `message` frame size (the same bytes per delivery). */
	fanoutSameBytes?: FanoutRounds;
	echo?: EchoRounds;
	presence?: PresenceResult;
}

export interface Bar {
	name: string;
	/** baton / reference. */
	value: number;
	limit: string;
	met: boolean | null;
	/** Context printed after the bar (not part of it): e.g. the one-sub diagnostic's ratio. */
	note?: string;
}

export interface BenchResults {
	meta: RunMeta & { viaProxy: boolean };
	targets: Partial<Record<TargetName, TargetResults>>;
	baton: {
		/** The connect on baton with LOG_LEVEL=warn (no line per connect), medians over rounds. */
		connectQuiet?: ConnectResult;
		/** The fan-out with clients that send no `read` frames (send budgets raised): baton without §13's reads. */
		fanoutNoReads?: FanoutRounds;
		replay?: ReplayResult;
		migration?: MigrationResult;
		drain?: DrainResult;
		heartbeat?: HeartbeatResult;
		idle?: IdleResult;
	};
	/**
	 * Diagnostic: workloads 1 and 4 on a second, fresh bare process, `welcome` variant: the floor
	 * plus one welcome-sized first frame per connection. baton ÷ this is what baton keeps per
	 * connection beyond the runtime's cost of a frame sent on it.
	 */
	bareWelcome?: { connect: ConnectResult; memory: MemoryResult };
	/** The same on a third fresh bare process that also sends count-mode presence traffic (`count` variant). */
	bareCount?: { connect: ConnectResult; memory: MemoryResult };
	/** `--profile` only: a connect burst of baton (on baton-hb, whose inspector is attached). */
	connectProfile?: ConnectProfile;
	cost?: CostModel;
	/** What one inbound frame costs workerd, nothing broadcast (bench/workloads/inbound.ts). */
	inbound?: InboundCosts;
	/** Fan-out on the bare target plus one of baton's costs (bench/targets/bare/worker.ts). */
	ablations?: Partial<Record<"persist" | "attach", FanoutResult>>;
	/** `--profile` only: where each target's Worker spends its time during fan-out. */
	profiles?: Partial<Record<TargetName, FanoutProfile>>;
	bars: Bar[];
}

/**
 * What the fan-out's `read` frames account for: their count per delivery times what one `read`
 * event costs alone (the inbound diagnostic), beside the measured gap to the no-reads process.
 */
function readsNote(r: BenchResults): string {
	const fanout = r.targets.baton?.fanout;
	const noReads = r.baton.fanoutNoReads;
	const inbound = r.inbound;
	if (fanout === undefined || noReads === undefined || inbound === undefined || fanout.readsSent === undefined || fanout.delivered === 0) return "";
	const perDelivery = fanout.readsSent / (fanout.delivered / (fanout.rounds?.length ?? 1));
	const predicted = perDelivery * inbound.read.workerdCpuUsPerFrame;
	const gap = fanout.workerdCpuUsPerDelivery - noReads.workerdCpuUsPerDelivery;
	return `; reads: 1 per ${fmt(1 / perDelivery, 0)} deliveries, a read alone costs ${fmt(inbound.read.workerdCpuUsPerFrame, 1)} µs of CPU (an empty JS event in bare ${fmt(inbound.emptyEvent.workerdCpuUsPerFrame, 1)}, a runtime-answered ping ${fmt(inbound.autoPing.workerdCpuUsPerFrame, 1)}): ${fmt(predicted, 2)} µs per delivery predicted, ${fmt(gap, 2)} measured`;
}

/** Frames per connect counts as flat when the largest room's figure is within this of the smallest's. */
const FLAT_TOLERANCE = 0.1;

/** The performance bars of issue 13 (bench/README.md), each as baton ÷ its reference. */
export function evaluateBars(r: BenchResults): Bar[] {
	const b = r.targets.baton;
	const bare = r.targets.bare;
	const party = r.targets.partyserver;
	const check = (value: number, ok: (v: number) => boolean) => (Number.isFinite(value) ? ok(value) : null);
	const cpu = ratio(b?.connect?.workerdCpuMsPerConnection, bare?.connect?.workerdCpuMsPerConnection);
	const cps = ratio(b?.connect?.connectionsPerSec, bare?.connect?.connectionsPerSec);
	const dpsBare = ratio(b?.fanout?.deliveriesPerSec, bare?.fanout?.deliveriesPerSec);
	const dpsDisk = ratio(b?.fanoutDisk?.deliveriesPerSec, bare?.fanoutDisk?.deliveriesPerSec);
	const dpsParty = ratio(b?.fanout?.deliveriesPerSec, party?.fanout?.deliveriesPerSec);
	const mem = ratio(b?.memory?.bytesPerConnection, bare?.memory?.bytesPerConnection);
	const memWelcome = ratio(b?.memory?.bytesPerConnection, r.bareWelcome?.memory.bytesPerConnection);
	const memCount = ratio(b?.memory?.bytesPerConnection, r.bareCount?.memory.bytesPerConnection);
	const persisted = b?.fanout?.persistedSeq !== undefined && b.fanout.persistedSeq >= b.fanout.messages;
	const persistedDisk = b?.fanoutDisk?.persistedSeq !== undefined && b.fanoutDisk.persistedSeq >= b.fanoutDisk.messages;
	const m = r.baton.migration;
	const downtime = m === undefined || m.failures > 0 ? Number.NaN : m.downtimeMs;
	// The first stage is event mode (up to PRESENCE_EVENTS_MAX): the bar is over the count-mode stages after it.
	const stages = (b?.presence?.stages ?? []).slice(1);
	const [small, large] = [stages[0], stages[stages.length - 1]];
	const flat = small === undefined || large === undefined || stages.length < 2 ? Number.NaN : round(large.framesPerConnect - small.framesPerConnect, 3);
	const rounds = (f: FanoutRounds | undefined) =>
		f === undefined ? "" : ` (median of ${f.rounds.length} rounds: ${f.rounds.map((x) => fmt(x.deliveriesPerSec)).join(", ")})`;
	const connectRounds = (c: ConnectResult | undefined, f: (x: NonNullable<ConnectResult["rounds"]>[number]) => string) =>
		c?.rounds === undefined ? "" : ` (median of ${c.rounds.length} rounds, the first on a fresh process: ${c.rounds.map(f).join(", ")})`;
	const quiet = r.baton.connectQuiet;
	const quietNote = (each: (x: NonNullable<ConnectResult["rounds"]>[number]) => string, f: (q: ConnectResult) => string) =>
		quiet === undefined ? "" : `; baton with LOG_LEVEL=warn (no line per connect)${connectRounds(quiet, each)}: ${f(quiet)}`;
	const sameBytes = bare?.fanoutSameBytes;
	const dpsSameBytes = ratio(b?.fanout?.deliveriesPerSec, sameBytes?.deliveriesPerSec);
	const sameBytesNote =
		sameBytes === undefined
			? ""
			: `; baton ÷ bare sending frames of baton's size (${fmt(sameBytes.frameBytes, 0)} vs ${fmt(b?.fanout?.frameBytes, 0)} B): ${fmt(dpsSameBytes, 2)}×, that floor ${fmt(ratio(sameBytes.deliveriesPerSec, bare?.fanout?.deliveriesPerSec), 2)}× bare${rounds(sameBytes)}`;
	const noReads = r.baton.fanoutNoReads;
	const noReadsNote =
		noReads === undefined
			? ""
			: `; baton with clients sending no read frames: ${fmt(ratio(noReads.deliveriesPerSec, bare?.fanout?.deliveriesPerSec), 2)}× bare${rounds(noReads)}${readsNote(r)}`;
	return [
		{
			name: `connect CPU per connection vs bare, ${fmt(b?.connect?.subs, 0)} distinct users`,
			value: cpu,
			limit: "≤ 2.0",
			met: check(cpu, (v) => v <= 2),
			note: `baton${connectRounds(b?.connect, (x) => fmt(x.workerdCpuMsPerConnection, 2))} ms; bare${connectRounds(bare?.connect, (x) => fmt(x.workerdCpuMsPerConnection, 2))} ms${quietNote(
				(x) => fmt(x.workerdCpuMsPerConnection, 2),
				(q) => `${fmt(q.workerdCpuMsPerConnection, 2)} ms, ${fmt(ratio(q.workerdCpuMsPerConnection, bare?.connect?.workerdCpuMsPerConnection), 2)}× bare`,
			)}`,
		},
		{
			name: "connections/s vs bare",
			value: cps,
			limit: "≥ 0.6",
			met: check(cps, (v) => v >= 0.6),
			note: `baton${connectRounds(b?.connect, (x) => fmt(x.connectionsPerSec))}; bare${connectRounds(bare?.connect, (x) => fmt(x.connectionsPerSec))}${quietNote(
				(x) => fmt(x.connectionsPerSec),
				(q) => `${fmt(q.connectionsPerSec)} conn/s, ${fmt(ratio(q.connectionsPerSec, bare?.connect?.connectionsPerSec), 2)}× bare`,
			)}`,
		},
		{
			name: "fan-out deliveries/s vs bare, state on tmpfs (baton persisting every message)",
			value: dpsBare,
			limit: "≥ 0.95",
			met: check(dpsBare, (v) => v >= 0.95 && persisted),
			note: `baton${rounds(b?.fanout)}; bare${rounds(bare?.fanout)}${sameBytesNote}${noReadsNote}`,
		},
		{
			name: "fan-out deliveries/s vs the persisting bare (one SQLite insert per message), state on disk",
			value: dpsDisk,
			limit: "≥ 0.9",
			met: check(dpsDisk, (v) => v >= 0.9 && persistedDisk),
			note: `baton${rounds(b?.fanoutDisk)}; bare+persist${rounds(bare?.fanoutDisk)}`,
		},
		{
			name: "fan-out deliveries/s vs partyserver (tmpfs)",
			value: dpsParty,
			limit: "≥ 1.0",
			met: check(dpsParty, (v) => v >= 1.0 && persisted),
			...(noReads === undefined
				? {}
				: { note: `baton with clients sending no read frames: ${fmt(ratio(noReads.deliveriesPerSec, party?.fanout?.deliveriesPerSec), 2)}× partyserver` }),
		},
		{
			name: "idle memory per connection vs bare, distinct users",
			value: mem,
			limit: "≤ 1.2",
			met: check(mem, (v) => v <= 1.2),
			...(r.bareWelcome === undefined
				? {}
				: {
						note: `baton ÷ bare + a welcome-sized first frame (fresh process): ${fmt(memWelcome, 2)}×${r.bareCount === undefined ? "" : `; ÷ bare + that frame + count-mode presence_count traffic: ${fmt(memCount, 2)}×`}`,
					}),
		},
		{
			name: `migration of ${fmt(m?.clients, 0)} clients: first 4010 → last welcome, ms`,
			value: downtime,
			limit: "< 1500",
			met: check(downtime, (v) => v < 1500),
			...(m === undefined
				? {}
				: {
						note: `each client's gap p50 ${fmt(m.gapMs.p50, 0)} / p99 ${fmt(m.gapMs.p99, 0)} / max ${fmt(m.gapMs.max, 0)} ms; ${m.resumed}/${m.clients} resumed with nothing to replay`,
					}),
		},
		{
			name: `frames sent per connect (not presence_count), ${fmt(large?.subs, 0)} subs − ${fmt(small?.subs, 0)} subs`,
			value: flat,
			limit: `flat (|Δ| ≤ ${FLAT_TOLERANCE})`,
			met: check(flat, (v) => Math.abs(v) <= FLAT_TOLERANCE),
			note: stages.map((x) => `${fmt(x.subs, 0)} subs: ${fmt(x.framesPerConnect, 3)}`).join(", "),
		},
	];
}

export function writeResults(r: BenchResults, dir: string): { file: string; latest: string } {
	mkdirSync(dir, { recursive: true });
	const stamp = r.meta.startedAt.replace(/[:.]/g, "-");
	const file = join(dir, `${stamp}.json`);
	const latest = join(dir, "latest.json");
	const text = `${JSON.stringify(r, null, 2)}\n`;
	writeFileSync(file, text);
	writeFileSync(latest, text);
	return { file, latest };
}

// ------------------------------------------------------------------ printing

/** A figure for a table: thousands grouped from 1,000 up, `—` when missing. */
export function fmt(v: number | undefined, digits = 1): string {
	if (v === undefined || !Number.isFinite(v)) return "—";
	if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
	return v.toFixed(digits);
}

/** One table line: the first cell left-aligned, the others right-aligned. */
export function pad(cells: string[], widths: number[]): string {
	return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
}

type Column = "baton" | "bare" | "partyserver";

type Row = {
	label: string;
	/** The figure of each column, from the results (undefined: not measured for that column). */
	get: (r: BenchResults, column: Column) => number | undefined;
	digits?: number;
};

/** A row read from each target's own results. */
const per = (label: string, get: (t: TargetResults) => number | undefined, digits?: number): Row => ({
	label,
	get: (r, c) => {
		const t = r.targets[c];
		return t === undefined ? undefined : get(t);
	},
	...(digits === undefined ? {} : { digits }),
});

/** A row measured on baton only. */
const batonOnly = (label: string, get: (r: BenchResults) => number | undefined, digits?: number): Row => ({
	label,
	get: (r, c) => (c === "baton" ? get(r) : undefined),
	...(digits === undefined ? {} : { digits }),
});

/** The stage of the presence workload at index `i` (negative: from the end). */
const stageOf = (t: TargetResults, i: number) => t.presence?.stages.at(i);

const ROWS: Row[] = [
	per("connect: connections/s", (t) => t.connect?.connectionsPerSec),
	per("connect: handshake p50 ms", (t) => t.connect?.handshakeMs.p50, 2),
	per("connect: handshake p99 ms", (t) => t.connect?.handshakeMs.p99, 2),
	per("connect: workerd CPU ms/conn", (t) => t.connect?.workerdCpuMsPerConnection, 2),
	/** baton with LOG_LEVEL=warn beside bare: the connect without its log line. */
	{
		label: "connect, LOG_LEVEL=warn: conn/s [6]",
		get: (r, c) => (c === "baton" ? r.baton.connectQuiet?.connectionsPerSec : c === "bare" ? r.targets.bare?.connect?.connectionsPerSec : undefined),
	},
	{
		label: "connect, LOG_LEVEL=warn: CPU ms [6]",
		get: (r, c) =>
			c === "baton" ? r.baton.connectQuiet?.workerdCpuMsPerConnection : c === "bare" ? r.targets.bare?.connect?.workerdCpuMsPerConnection : undefined,
		digits: 2,
	},
	per("fan-out tmpfs: deliveries/s", (t) => t.fanout?.deliveriesPerSec),
	per("fan-out tmpfs: latency p50 ms", (t) => t.fanout?.latencyMs.p50, 2),
	per("fan-out tmpfs: latency p99 ms", (t) => t.fanout?.latencyMs.p99, 2),
	per("fan-out tmpfs: CPU µs/delivery", (t) => t.fanout?.workerdCpuUsPerDelivery, 2),
	per("fan-out tmpfs: client CPU share", (t) => t.fanout?.clientCpuShare, 2),
	per("fan-out tmpfs: bytes/frame", (t) => t.fanout?.frameBytes, 1),
	/** baton's tmpfs fan-out beside bare broadcasting frames as long as baton's. */
	/** baton whose clients send no `read` frames (send budgets raised), beside bare and partyserver. */
	{
		label: "fan-out, no read frames: deliv/s [7]",
		get: (r, c) => (c === "baton" ? r.baton.fanoutNoReads?.deliveriesPerSec : r.targets[c]?.fanout?.deliveriesPerSec),
	},
	{
		label: "fan-out, no read frames: CPU µs [7]",
		get: (r, c) => (c === "baton" ? r.baton.fanoutNoReads?.workerdCpuUsPerDelivery : r.targets[c]?.fanout?.workerdCpuUsPerDelivery),
		digits: 2,
	},
	{
		label: "fan-out, no read frames: p99 ms [7]",
		get: (r, c) => (c === "baton" ? r.baton.fanoutNoReads?.latencyMs.p99 : r.targets[c]?.fanout?.latencyMs.p99),
		digits: 2,
	},
	{
		label: "fan-out same bytes: deliveries/s [5]",
		get: (r, c) => (c === "baton" ? r.targets.baton?.fanout?.deliveriesPerSec : c === "bare" ? r.targets.bare?.fanoutSameBytes?.deliveriesPerSec : undefined),
	},
	{
		label: "fan-out same bytes: CPU µs/deliv [5]",
		get: (r, c) =>
			c === "baton" ? r.targets.baton?.fanout?.workerdCpuUsPerDelivery : c === "bare" ? r.targets.bare?.fanoutSameBytes?.workerdCpuUsPerDelivery : undefined,
		digits: 2,
	},
	per("fan-out disk: deliveries/s [1]", (t) => t.fanoutDisk?.deliveriesPerSec),
	per("fan-out disk: latency p99 ms [1]", (t) => t.fanoutDisk?.latencyMs.p99, 2),
	per("fan-out disk: CPU µs/delivery [1]", (t) => t.fanoutDisk?.workerdCpuUsPerDelivery, 2),
	per("echo: RTT p50 ms", (t) => t.echo?.rttMs.p50, 2),
	per("echo: RTT p99 ms", (t) => t.echo?.rttMs.p99, 2),
	per("memory: bytes/connection", (t) => t.memory?.bytesPerConnection, 0),
	per("memory: bytes/conn, hibernated", (t) => t.memory?.bytesPerConnectionHibernated, 0),
	{
		label: "memory: bytes/conn [2]",
		get: (r, c) => (c === "baton" ? r.targets.baton?.memory?.bytesPerConnection : c === "bare" ? r.bareWelcome?.memory.bytesPerConnection : undefined),
		digits: 0,
	},
	{
		label: "memory: bytes/conn [8]",
		get: (r, c) => (c === "baton" ? r.targets.baton?.memory?.bytesPerConnection : c === "bare" ? r.bareCount?.memory.bytesPerConnection : undefined),
		digits: 0,
	},
	per("presence: conn/s, event-mode stage", (t) => stageOf(t, 0)?.connectionsPerSec),
	per("presence: frames/connect, event-mode [3]", (t) => stageOf(t, 0)?.framesPerConnect, 3),
	per("presence: conn/s, 2nd stage", (t) => stageOf(t, 1)?.connectionsPerSec),
	per("presence: conn/s, last stage", (t) => stageOf(t, -1)?.connectionsPerSec),
	per("presence: CPU ms/conn, last stage", (t) => stageOf(t, -1)?.workerdCpuMsPerConnection, 2),
	per("presence: frames/connect, 2nd stage [3]", (t) => stageOf(t, 1)?.framesPerConnect, 3),
	per("presence: frames/connect, last [3]", (t) => stageOf(t, -1)?.framesPerConnect, 3),
	batonOnly("migration: first 4010 → last welcome ms", (r) => r.baton.migration?.downtimeMs, 0),
	batonOnly("migration: gap p50 ms", (r) => r.baton.migration?.gapMs.p50, 0),
	batonOnly("migration: gap p99 ms", (r) => r.baton.migration?.gapMs.p99, 0),
	batonOnly("drain wave: drain → last welcome ms", (r) => r.baton.drain?.wave.lastWelcomeMs, 0),
	batonOnly("drain wave: lateness p50 ms [4]", (r) => r.baton.drain?.wave.latenessMs.p50, 1),
	batonOnly("drain wave: lateness p99 ms [4]", (r) => r.baton.drain?.wave.latenessMs.p99, 1),
	batonOnly("drain wave: peak reconnects/s", (r) => r.baton.drain?.wave.peakDialsPerSec, 0),
];

export function formatTable(r: BenchResults): string {
	const widths = [40, 12, 12, 12, 10, 11];
	const lines = [pad(["workload", "baton", "bare", "partyserver", "baton/bare", "baton/party"], widths)];
	lines.push("-".repeat(widths.reduce((a, w) => a + w + 2, 0)));
	for (const row of ROWS) {
		const [x, y, z] = [row.get(r, "baton"), row.get(r, "bare"), row.get(r, "partyserver")];
		if (x === undefined && y === undefined && z === undefined) continue;
		lines.push(pad([row.label, fmt(x, row.digits), fmt(y, row.digits), fmt(z, row.digits), fmt(ratio(x, y), 2), fmt(ratio(x, z), 2)], widths));
	}
	const stages = r.targets.baton?.presence?.stages ?? [];
	lines.push("[1] state on disk; the bare column is the persisting floor: bare + one SQLite insert per message, also on disk");
	lines.push("[2] the bare column is bare + one welcome-sized first frame per connection, on its own fresh process");
	lines.push(
		`[3] frames any client received per connect (the joiner's welcome included, presence_count and pong not); stages end at ${stages.map((x) => x.subs).join(", ")} subs, the first in event mode (PRESENCE_EVENTS_MAX = 100)`,
	);
	lines.push("[4] a client's welcome − (its 1012 close frame + the retryIn it was given)");
	lines.push(
		"[7] the baton column is baton whose clients send no `read` frames (SEND_BUFFER_MAX_BYTES / SEND_BUFFER_ROOM_MAX_BYTES raised to 1 GiB so that it is not cut 4013): the fan-out without the cost of §13's reads",
	);
	lines.push(
		"[8] the bare column is bare + that first frame + a presence_count-like frame to every socket at most once per second (baton's count mode), on its own fresh process",
	);
	lines.push("[6] the baton column is baton with LOG_LEVEL=warn, which writes no `connect` line (medians over the same rounds)");
	lines.push("[5] the bare column is bare sent publish frames padded to baton's message frame size: the same bytes per delivery (tmpfs)");
	return lines.join("\n");
}

export function formatBaton(r: BenchResults): string {
	const out: string[] = [];
	const floor = r.targets.bare?.fanout;
	const names = { persist: "bare + SQLite insert per message", attach: "bare + attachment read per send" } as const;
	for (const [key, a] of Object.entries(r.ablations ?? {}) as Array<["persist" | "attach", FanoutResult]>) {
		out.push(
			`ablation (tmpfs), ${names[key]}: ${fmt(a.deliveriesPerSec)} deliveries/s (${fmt(ratio(a.deliveriesPerSec, floor?.deliveriesPerSec), 2)}× bare), p99 ${fmt(a.latencyMs.p99, 2)} ms, ${fmt(a.workerdCpuUsPerDelivery, 2)} µs CPU/delivery`,
		);
	}
	if (r.inbound) {
		const x = (v: InboundResult) => `${fmt(v.workerdCpuUsPerFrame, 1)} µs${v.timedOut ? " (timed out)" : ""}`;
		const { autoPing, emptyEvent, read } = r.inbound;
		out.push(
			`diagnostic, one inbound frame (${fmt(read.sockets, 0)} sockets, ${fmt(read.frames, 0)} frames, nothing broadcast), workerd CPU per frame: bare ping answered by the runtime ${x(autoPing)}; bare empty webSocketMessage ${x(emptyEvent)}; baton read ${x(read)}`,
		);
	}
	const { replay, drain, heartbeat, idle, migration } = r.baton;
	if (r.bareWelcome) {
		const c = r.bareWelcome.connect;
		const perConn = r.bareWelcome.memory.bytesPerConnection;
		out.push(
			`diagnostic, bare + a welcome-sized first frame (fresh process): ${fmt(c.connectionsPerSec)} conn/s, ${fmt(c.workerdCpuMsPerConnection, 2)} ms CPU/conn; idle memory ${fmt(perConn, 0)} bytes/conn (${fmt(ratio(perConn, r.targets.bare?.memory?.bytesPerConnection), 2)}× bare; baton ${fmt(ratio(r.targets.baton?.memory?.bytesPerConnection, perConn), 2)}× this)`,
		);
	}
	if (r.bareCount) {
		const perConn = r.bareCount.memory.bytesPerConnection;
		out.push(
			`diagnostic, bare + that frame + count-mode presence_count traffic (fresh process): idle memory ${fmt(perConn, 0)} bytes/conn (${fmt(ratio(perConn, r.targets.bare?.memory?.bytesPerConnection), 2)}× bare; baton ${fmt(ratio(r.targets.baton?.memory?.bytesPerConnection, perConn), 2)}× this)`,
		);
	}
	for (const name of ["baton", "bare"] as const) {
		const p = r.targets[name]?.presence;
		if (p === undefined) continue;
		const stages = p.stages.map(
			(x) =>
				`${fmt(x.subs, 0)} subs: ${fmt(x.connectionsPerSec)} conn/s, ${fmt(x.framesPerConnect, 3)} frames/connect (+${fmt(x.countFramesPerConnect, 3)} presence_count), ${fmt(x.workerdCpuMsPerConnection, 2)} ms CPU/conn`,
		);
		out.push(`presence, ${name} (${p.subs} subs, ${p.failures} failures${p.timedOut ? ", timed out" : ""}): ${stages.join("; ")}`);
	}
	if (migration) {
		out.push(
			`migration: ${migration.clients} clients, ${migration.log}-message log, moved ${migration.moved}; request ${fmt(migration.migrateRequestMs, 0)} ms; first 4010 → last welcome ${fmt(migration.downtimeMs, 0)} ms; per client p50 ${fmt(migration.gapMs.p50, 0)} / p99 ${fmt(migration.gapMs.p99, 0)} / max ${fmt(migration.gapMs.max, 0)} ms; ${migration.resumed} resumed with nothing to replay; ${migration.failures} failed${migration.failureSamples.length > 0 ? ` (${migration.failureSamples.join("; ")})` : ""}`,
		);
	}
	if (replay) {
		out.push(
			`replay: ${replay.missed} missed × ${replay.repeats}: to welcome p50 ${fmt(replay.toWelcomeMs.p50, 2)} ms, to last replayed p50 ${fmt(replay.toLastReplayedMs.p50, 2)} / max ${fmt(replay.toLastReplayedMs.max, 2)} ms (replayed ${replay.replayed.join(",")}; publish ${fmt(replay.publishPerSec)} msg/s)`,
		);
	}
	if (drain) {
		const w = drain.wave;
		out.push(
			`drain: ${drain.closed}/${drain.clients} close frames (${drain.withRetryIn} with 1012 + retryIn), within ${fmt(drain.closeFrameAtMs.max)} ms; retryIn p50 ${fmt(drain.retryInMs.p50, 0)} / max ${fmt(drain.retryInMs.max, 0)} ms; reconnects due over ${fmt(drain.reconnectWindowMs)} ms, peak ${drain.peakReconnectsPerSec}/s (mean ${fmt(drain.meanReconnectsPerSec)}/s) vs ${drain.peakClosesPerSec}/s if all reconnected on the close frame`,
		);
		out.push(
			`drain reconnect wave: ${w.welcomed}/${w.clients} welcomed (${w.resumed} resumed), ${w.failures} failed${w.failureSamples.length > 0 ? ` (${w.failureSamples.join("; ")})` : ""}; last welcome ${fmt(w.lastWelcomeMs, 0)} ms after the drain; lateness p50 ${fmt(w.latenessMs.p50, 1)} / p99 ${fmt(w.latenessMs.p99, 1)} / max ${fmt(w.latenessMs.max, 1)} ms; peak ${w.peakDialsPerSec} dials/s`,
		);
	}
	if (heartbeat) {
		out.push(
			`heartbeat: ${heartbeat.sockets} sockets (${heartbeat.users} users), ${heartbeat.alarmRuns} alarm run(s) (due ${fmt(heartbeat.alarmDueAfterConnectMs, 0)} ms after the first connect), alarm: ${fmt(heartbeat.alarmCpuMsPerRun, 2)} ms workerd CPU/run, ${fmt(heartbeat.alarmMsPerRun, 2)} ms sampled in alarm(), constructor ${fmt(heartbeat.constructorMsPerWake, 2)} ms/wake (${heartbeat.wakes} wakes); timeouts ${heartbeat.heartbeatTimeouts}, pongs ${heartbeat.pongs}/${heartbeat.pingsSent}`,
		);
	}
	if (idle) {
		const c = (name: string, x: IdleResult["baton"]) =>
			`${name}: ${fmt(x.perMinute.pingInvocations, 1)} ping invocations/min, ${fmt(x.perMinute.alarmRuns, 1)} alarm runs/min, ${fmt(x.perMinute.wakeups, 1)} wakeups/min (pongs ${x.pongs}/${x.pingsSent})`;
		out.push(`idle room (${idle.baton.clients} clients, ping every ${idle.heartbeat.intervalMs} ms, ${Math.round(idle.baton.windowMs / 1000)} s):`);
		out.push(`  ${c("baton", idle.baton)}`);
		out.push(`  ${c("bare, ping in JS", idle.bareManual)}`);
		out.push(`  ${c("bare, auto-response", idle.bareAuto)}`);
	}
	if (r.cost) {
		const a = r.cost.assumptions;
		const l = (name: string, x: CostModel["baton"]) =>
			`  ${name.padEnd(22)} ${fmt(x.requestsPerMonth, 0).padStart(14)} req  ${fmt(x.gbSecondsPerMonth, 0).padStart(12)} GB-s  $${x.totalUsd.toFixed(2)}/month net ($${x.grossUsd.toFixed(2)} gross)${x.rowsWrittenUsd === undefined ? "" : `; + rows written ${fmt(x.rowsWrittenPerMonth, 0)} → $${x.rowsWrittenUsd.toFixed(2)}`}`;
		out.push(`modelled monthly cost, ${a.rooms.toLocaleString("en-US")} idle rooms × ${a.clientsPerRoom} clients (assumptions in the JSON):`);
		out.push(l("baton (auto-response)", r.cost.baton));
		out.push(l("bare, ping in JS", r.cost.bareManualPing));
		out.push(l("bare, auto-response", r.cost.bareAutoPing));
	}
	return out.join("\n");
}

export function formatProfiles(r: BenchResults): string {
	const out: string[] = [];
	const spots = (hotspots: FanoutProfile["hotspots"], callers: FanoutProfile["nativeCallers"]) => {
		for (const h of hotspots) out.push(`  ${(h.share * 100).toFixed(1).padStart(5)}%  ${fmt(h.selfMs, 1).padStart(8)} ms  ${h.fn}`);
		for (const [fn, cs] of Object.entries(callers)) out.push(`  ${fn} from: ${cs.map((c) => `${c.fn} ${(c.share * 100).toFixed(0)}%`).join(", ")}`);
	};
	for (const [name, p] of Object.entries(r.profiles ?? {})) {
		out.push(`fan-out, ${name}: ${fmt(p.jsMsPerDelivery * 1000, 2)} µs JS per delivery (${fmt(p.totalJsMs, 0)} ms sampled over ${p.deliveries} deliveries)`);
		spots(p.hotspots, p.nativeCallers);
	}
	const c = r.connectProfile;
	if (c !== undefined) {
		out.push(`connect, baton: ${fmt(c.jsMsPerConnection, 3)} ms JS per connection (${fmt(c.totalJsMs, 0)} ms sampled over ${c.connections} connections)`);
		spots(c.hotspots, c.nativeCallers);
	}
	return out.join("\n");
}

export function formatBars(bars: Bar[]): string {
	return bars
		.map(
			(b) => `${b.met === null ? "?" : b.met ? "MET " : "MISS"}  ${b.name}: ${fmt(b.value, 2)} (bar ${b.limit})${b.note === undefined ? "" : ` — ${b.note}`}`,
		)
		.join("\n");
}
