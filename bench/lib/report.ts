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
import type { FanoutProfile } from "../workloads/profile.ts";
import type { ReplayResult } from "../workloads/replay.ts";
import type { CostModel } from "./cost.ts";
import type { Mode } from "./sizes.ts";
import { ratio } from "./stats.ts";
import type { TargetName } from "./targets.ts";

export interface TargetResults {
	connect?: ConnectResult;
	memory?: MemoryResult;
	fanout?: FanoutRounds & { persistedSeq?: number };
	echo?: EchoRounds;
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
	meta: {
		startedAt: string;
		mode: Mode;
		durationMs: number;
		viaProxy: boolean;
		stateDir: string;
		node: string;
		cpus: number;
		loadAverage: { start: number; end: number };
		commit: string;
		dirty: boolean;
		errors: string[];
	};
	targets: Partial<Record<TargetName, TargetResults>>;
	baton: {
		/**
		 * Diagnostic: workloads 1 and 4 on a second, fresh baton process with every socket sharing
		 * one sub, so no presence fan-out on join: what a connection costs without it.
		 */
		oneSub?: { connect: ConnectResult; memory: MemoryResult };
		replay?: ReplayResult;
		drain?: DrainResult;
		heartbeat?: HeartbeatResult;
		idle?: IdleResult;
	};
	/**
	 * Diagnostic: workloads 1 and 4 on a second, fresh bare process, `presence` variant: the floor
	 * plus the frames baton sends on connect with distinct users (a welcome-sized first frame, a
	 * join to every other socket). baton ÷ this is baton's cost beyond that presence traffic.
	 */
	barePresence?: { connect: ConnectResult; memory: MemoryResult };
	cost?: CostModel;
	/** Fan-out on the bare target plus one of baton's costs (bench/targets/bare/worker.ts). */
	ablations?: Partial<Record<"persist" | "attach", FanoutResult>>;
	/** `--profile` only: where each target's Worker spends its time during fan-out. */
	profiles?: Partial<Record<TargetName, FanoutProfile>>;
	bars: Bar[];
}

/** The project's performance bars (bench/README.md). */
export function evaluateBars(r: BenchResults): Bar[] {
	const b = r.targets.baton;
	const bare = r.targets.bare;
	const party = r.targets.partyserver;
	const check = (value: number, ok: (v: number) => boolean) => (Number.isFinite(value) ? ok(value) : null);
	const dpsBare = ratio(b?.fanout?.deliveriesPerSec, bare?.fanout?.deliveriesPerSec);
	const dpsParty = ratio(b?.fanout?.deliveriesPerSec, party?.fanout?.deliveriesPerSec);
	const p99 = ratio(b?.fanout?.latencyMs.p99, bare?.fanout?.latencyMs.p99);
	const mem = ratio(b?.memory?.bytesPerConnection, bare?.memory?.bytesPerConnection);
	const memOneSub = ratio(r.baton.oneSub?.memory.bytesPerConnection, bare?.memory?.bytesPerConnection);
	const memPresence = ratio(b?.memory?.bytesPerConnection, r.barePresence?.memory.bytesPerConnection);
	const memNotes = [
		...(r.baton.oneSub === undefined ? [] : [`diagnostic, one shared sub (no presence fan-out on join): ${fmt(memOneSub, 2)}× bare`]),
		...(r.barePresence === undefined ? [] : [`baton ÷ bare + the same presence traffic (welcome + join per user): ${fmt(memPresence, 2)}×`]),
	];
	const persisted = b?.fanout?.persistedSeq !== undefined && b.fanout.persistedSeq >= b.fanout.messages;
	return [
		{
			name: "fan-out deliveries/s vs bare (baton persisting every message)",
			value: dpsBare,
			limit: "≥ 0.8",
			met: check(dpsBare, (v) => v >= 0.8 && persisted),
		},
		{ name: "fan-out deliveries/s vs partyserver", value: dpsParty, limit: "≥ 1.0", met: check(dpsParty, (v) => v >= 1.0 && persisted) },
		{ name: "fan-out p99 latency vs bare", value: p99, limit: "≤ 1.5", met: check(p99, (v) => v <= 1.5) },
		{
			name: "idle memory per connection vs bare",
			value: mem,
			limit: "≤ 1.2",
			met: check(mem, (v) => v <= 1.2),
			...(memNotes.length === 0 ? {} : { note: memNotes.join("; ") }),
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

function fmt(v: number | undefined, digits = 1): string {
	if (v === undefined || !Number.isFinite(v)) return "—";
	if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
	return v.toFixed(digits);
}

function pad(cells: string[], widths: number[]): string {
	return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
}

type Row = {
	label: string;
	get: (t: TargetResults) => number | undefined;
	digits?: number;
	/**
	 * A diagnostic row: `oneSub`, baton's column is the one-sub process's figure; `barePresence`,
	 * bare's column is the bare + presence-traffic process's figure (`get` on that).
	 */
	diag?: "oneSub" | "barePresence";
};

const ROWS: Row[] = [
	{ label: "connect: connections/s", get: (t) => t.connect?.connectionsPerSec },
	{ label: "connect: handshake p50 ms", get: (t) => t.connect?.handshakeMs.p50, digits: 2 },
	{ label: "connect: handshake p99 ms", get: (t) => t.connect?.handshakeMs.p99, digits: 2 },
	{ label: "connect: workerd CPU ms/conn", get: (t) => t.connect?.workerdCpuMsPerConnection, digits: 2 },
	{ label: "fan-out: deliveries/s", get: (t) => t.fanout?.deliveriesPerSec },
	{ label: "fan-out: latency p50 ms", get: (t) => t.fanout?.latencyMs.p50, digits: 2 },
	{ label: "fan-out: latency p99 ms", get: (t) => t.fanout?.latencyMs.p99, digits: 2 },
	{ label: "fan-out: workerd CPU µs/delivery", get: (t) => t.fanout?.workerdCpuUsPerDelivery, digits: 2 },
	{ label: "fan-out: client CPU share", get: (t) => t.fanout?.clientCpuShare, digits: 2 },
	{ label: "echo: RTT p50 ms", get: (t) => t.echo?.rttMs.p50, digits: 2 },
	{ label: "echo: RTT p99 ms", get: (t) => t.echo?.rttMs.p99, digits: 2 },
	{ label: "memory: bytes/connection", get: (t) => t.memory?.bytesPerConnection, digits: 0 },
	{ label: "memory: bytes/conn, hibernated", get: (t) => t.memory?.bytesPerConnectionHibernated, digits: 0 },
	{ label: "[diag] one sub: connections/s", get: (t) => t.connect?.connectionsPerSec, diag: "oneSub" },
	{ label: "[diag] one sub: CPU ms/conn", get: (t) => t.connect?.workerdCpuMsPerConnection, digits: 2, diag: "oneSub" },
	{ label: "[diag] one sub: bytes/connection", get: (t) => t.memory?.bytesPerConnection, digits: 0, diag: "oneSub" },
	{ label: "[diag] bare+presence: conn/s", get: (t) => t.connect?.connectionsPerSec, diag: "barePresence" },
	{ label: "[diag] bare+presence: CPU ms/conn", get: (t) => t.connect?.workerdCpuMsPerConnection, digits: 2, diag: "barePresence" },
	{ label: "[diag] bare+presence: bytes/conn", get: (t) => t.memory?.bytesPerConnection, digits: 0, diag: "barePresence" },
];

export function formatTable(r: BenchResults): string {
	const b = r.targets.baton ?? {};
	const bare = r.targets.bare ?? {};
	const party = r.targets.partyserver ?? {};
	const oneSub: TargetResults = r.baton.oneSub ?? {};
	const presence: TargetResults = r.barePresence ?? {};
	const widths = [34, 12, 12, 12, 10, 11];
	const lines = [pad(["workload", "baton", "bare", "partyserver", "baton/bare", "baton/party"], widths)];
	lines.push("-".repeat(widths.reduce((a, w) => a + w + 2, 0)));
	for (const row of ROWS) {
		const [x, y, z] = [row.get(row.diag === "oneSub" ? oneSub : b), row.get(row.diag === "barePresence" ? presence : bare), row.get(party)];
		if (x === undefined && y === undefined && z === undefined) continue;
		lines.push(pad([row.label, fmt(x, row.digits), fmt(y, row.digits), fmt(z, row.digits), fmt(ratio(x, y), 2), fmt(ratio(x, z), 2)], widths));
	}
	if (r.baton.oneSub !== undefined) {
		lines.push("[diag] one sub = baton with every socket one sub (no presence fan-out on join), on its own fresh process; bare/party: their usual run");
	}
	if (r.barePresence !== undefined) {
		lines.push(
			"[diag] bare+presence = bare + the same presence traffic (welcome + join per user), on its own fresh process, in the bare column; baton/party: their usual run",
		);
	}
	return lines.join("\n");
}

export function formatBaton(r: BenchResults): string {
	const out: string[] = [];
	const floor = r.targets.bare?.fanout;
	const names = { persist: "bare + SQLite insert per message", attach: "bare + attachment read per send" } as const;
	for (const [key, a] of Object.entries(r.ablations ?? {}) as Array<["persist" | "attach", FanoutResult]>) {
		out.push(
			`ablation, ${names[key]}: ${fmt(a.deliveriesPerSec)} deliveries/s (${fmt(ratio(a.deliveriesPerSec, floor?.deliveriesPerSec), 2)}× bare), p99 ${fmt(a.latencyMs.p99, 2)} ms, ${fmt(a.workerdCpuUsPerDelivery, 2)} µs CPU/delivery`,
		);
	}
	const { oneSub, replay, drain, heartbeat, idle } = r.baton;
	if (oneSub) {
		const c = oneSub.connect;
		const perConn = oneSub.memory.bytesPerConnection;
		const batonPerConn = r.targets.baton?.memory?.bytesPerConnection;
		out.push(
			`diagnostic, connect with one shared sub (no presence fan-out on join; fresh process): ${fmt(c.connectionsPerSec)} conn/s, handshake p50 ${fmt(c.handshakeMs.p50, 2)} / p99 ${fmt(c.handshakeMs.p99, 2)} ms, ${fmt(c.workerdCpuMsPerConnection, 2)} ms CPU/conn; idle memory ${fmt(perConn, 0)} bytes/conn (${fmt(ratio(perConn, r.targets.bare?.memory?.bytesPerConnection), 2)}× bare, ${fmt(ratio(perConn, batonPerConn), 2)}× baton with ${fmt(r.targets.baton?.connect?.subs, 0)} subs)`,
		);
	}
	if (r.barePresence) {
		const c = r.barePresence.connect;
		const perConn = r.barePresence.memory.bytesPerConnection;
		out.push(
			`diagnostic, bare + the same presence traffic (welcome + join per user; fresh process): ${fmt(c.connectionsPerSec)} conn/s, handshake p50 ${fmt(c.handshakeMs.p50, 2)} / p99 ${fmt(c.handshakeMs.p99, 2)} ms, ${fmt(c.workerdCpuMsPerConnection, 2)} ms CPU/conn; idle memory ${fmt(perConn, 0)} bytes/conn (${fmt(ratio(perConn, r.targets.bare?.memory?.bytesPerConnection), 2)}× bare; baton ${fmt(ratio(r.targets.baton?.memory?.bytesPerConnection, perConn), 2)}× this)`,
		);
	}
	if (replay) {
		out.push(
			`replay: ${replay.missed} missed × ${replay.repeats}: to welcome p50 ${fmt(replay.toWelcomeMs.p50, 2)} ms, to last replayed p50 ${fmt(replay.toLastReplayedMs.p50, 2)} / max ${fmt(replay.toLastReplayedMs.max, 2)} ms (replayed ${replay.replayed.join(",")}; publish ${fmt(replay.publishPerSec)} msg/s)`,
		);
	}
	if (drain) {
		out.push(
			`drain: ${drain.closed}/${drain.clients} closed (${drain.withRetryIn} with 1012 + retryIn); close frames within ${fmt(drain.closeFrameAtMs.max)} ms, close events (TCP) at p50 ${fmt(drain.closeEventAtMs.p50)} ms; retryIn p50 ${fmt(drain.retryInMs.p50, 0)} / max ${fmt(drain.retryInMs.max, 0)} ms; modelled reconnects over ${fmt(drain.reconnectWindowMs)} ms, peak ${drain.peakReconnectsPerSec}/s (mean ${fmt(drain.meanReconnectsPerSec)}/s) vs ${drain.peakClosesPerSec}/s if all reconnected on the close frame`,
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
	for (const [name, p] of Object.entries(r.profiles ?? {})) {
		out.push(`${name}: ${fmt(p.jsMsPerDelivery * 1000, 2)} µs JS per delivery (${fmt(p.totalJsMs, 0)} ms sampled over ${p.deliveries} deliveries)`);
		for (const h of p.hotspots) out.push(`  ${(h.share * 100).toFixed(1).padStart(5)}%  ${fmt(h.selfMs, 1).padStart(8)} ms  ${h.fn}`);
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
