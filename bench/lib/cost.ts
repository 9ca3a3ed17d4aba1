/**
 * The modelled monthly cost of idle rooms (bench/README.md, "Cost model"), from counts measured
 * at the bench's compressed heartbeat and Cloudflare's published Durable Objects prices. Pure.
 */
import { round } from "./stats.ts";
import { BENCH_HEARTBEAT, PRODUCTION_HEARTBEAT } from "./targets.ts";

/** Prices and allowances (Workers Paid; developers.cloudflare.com/durable-objects/platform/pricing). */
export const PRICING = {
	requestUsdPerMillion: 0.15,
	includedRequests: 1_000_000,
	durationUsdPerMillionGbS: 12.5,
	includedGbS: 400_000,
	memoryGb: 0.128,
	/** Incoming WebSocket messages are billed as requests at 20:1. */
	webSocketMessagesPerRequest: 20,
	/** SQLite-backed storage, rows written (not part of the brief's model; shown separately). */
	rowsWrittenUsdPerMillion: 1.0,
	includedRowsWritten: 50_000_000,
} as const;

export interface CostAssumptions {
	rooms: number;
	clientsPerRoom: number;
	secondsPerMonth: number;
	/** Measured counts are scaled by bench interval / production interval (both heartbeat settings keep 1:3). */
	scale: number;
	/** Billed wall time per JavaScript invocation (s): an alarm run; a webSocketMessage for a ping. */
	alarmBilledSeconds: number;
	pingBilledSeconds: number;
	/** SQLite rows the room writes per alarm run (incl. the wake counter), read from room.ts. */
	rowsWrittenPerAlarm: number;
	notes: string[];
}

export interface CostLine {
	requestsPerMonth: number;
	gbSecondsPerMonth: number;
	requestUsd: number;
	durationUsd: number;
	/** Requests + duration, after the included allowances. */
	totalUsd: number;
	/** Same, before the allowances (what the workload adds on an account that already uses them). */
	grossUsd: number;
	rowsWrittenPerMonth?: number;
	rowsWrittenUsd?: number;
}

export interface CostModel {
	assumptions: CostAssumptions;
	baton: CostLine;
	bareManualPing: CostLine;
	bareAutoPing: CostLine;
}

export function defaultAssumptions(): CostAssumptions {
	return {
		rooms: 10_000,
		clientsPerRoom: 10,
		secondsPerMonth: 30 * 24 * 3600,
		scale: BENCH_HEARTBEAT.intervalMs / PRODUCTION_HEARTBEAT.intervalMs,
		alarmBilledSeconds: 0.005,
		pingBilledSeconds: 0.001,
		rowsWrittenPerAlarm: 1,
		notes: [
			`Counts measured with HEARTBEAT_INTERVAL_MS=${BENCH_HEARTBEAT.intervalMs}/TIMEOUT=${BENCH_HEARTBEAT.timeoutMs} and clients pinging once per interval, scaled ×${BENCH_HEARTBEAT.intervalMs}/${PRODUCTION_HEARTBEAT.intervalMs} to the production ${PRODUCTION_HEARTBEAT.intervalMs}/${PRODUCTION_HEARTBEAT.timeoutMs} ms.`,
			"Requests: each alarm run is one request; each incoming WebSocket message is 1/20 request; auto-response pings are not billed (pricing footnote) and run no JavaScript.",
			"Duration: billed only while JavaScript runs (an object idle and eligible for hibernation is not billed, even before it hibernates); 128 MB per object.",
			"Billed wall time per invocation (assumed): 5 ms per alarm run of a 10-socket room (wake-up, a few SQLite statements, the alarm commit; the heartbeat workload measures a 300/2,000-socket run), 1 ms per ping handled in webSocketMessage.",
			"Allowances: 1M requests and 400,000 GB-s per month included; totals are net of them, gross figures are before them.",
			"Storage rows written (not in the brief's model): baton writes 1 row per alarm run (the one-row counters table: the alarm-run count with the wake it caused folded in; the armed time lives in the alarm itself), measured with SQLite cursors' rowsWritten in a local run (the prunes delete no rows in an idle room; setAlarm itself is not counted); $1.00/M after 50M included. The bare DO's ping counter is bench instrumentation and is left out.",
			"A 30-day month; WebSocket connection requests, storage reads and stored bytes are left out.",
		],
	};
}

function line(requests: number, invocationsSeconds: number, rowsWritten?: number): CostLine {
	const gbS = invocationsSeconds * PRICING.memoryGb;
	const net = (n: number, inc: number, per: number) => (Math.max(0, n - inc) * per) / 1e6;
	const requestUsd = net(requests, PRICING.includedRequests, PRICING.requestUsdPerMillion);
	const durationUsd = net(gbS, PRICING.includedGbS, PRICING.durationUsdPerMillionGbS);
	const grossUsd = (requests * PRICING.requestUsdPerMillion + gbS * PRICING.durationUsdPerMillionGbS) / 1e6;
	const out: CostLine = {
		requestsPerMonth: Math.round(requests),
		gbSecondsPerMonth: Math.round(gbS),
		requestUsd: round(requestUsd, 2),
		durationUsd: round(durationUsd, 2),
		totalUsd: round(requestUsd + durationUsd, 2),
		grossUsd: round(grossUsd, 2),
	};
	if (rowsWritten !== undefined) {
		out.rowsWrittenPerMonth = Math.round(rowsWritten);
		out.rowsWrittenUsd = round(net(rowsWritten, PRICING.includedRowsWritten, PRICING.rowsWrittenUsdPerMillion), 2);
	}
	return out;
}

/** Per-room per-minute counts at the bench heartbeat → monthly fleet cost. */
export function modelCost(
	measured: { batonAlarmRunsPerMin: number; bareManualPingsPerMin: number; bareAutoInvocationsPerMin: number },
	a: CostAssumptions,
): CostModel {
	const monthly = (perMinute: number) => perMinute * a.scale * (a.secondsPerMonth / 60) * a.rooms;
	const alarms = monthly(measured.batonAlarmRunsPerMin);
	const manualPings = monthly(measured.bareManualPingsPerMin);
	const autoInvocations = monthly(measured.bareAutoInvocationsPerMin);
	return {
		assumptions: a,
		baton: line(alarms, alarms * a.alarmBilledSeconds, alarms * a.rowsWrittenPerAlarm),
		bareManualPing: line(manualPings / PRICING.webSocketMessagesPerRequest, manualPings * a.pingBilledSeconds),
		bareAutoPing: line(autoInvocations, autoInvocations * a.pingBilledSeconds),
	};
}
