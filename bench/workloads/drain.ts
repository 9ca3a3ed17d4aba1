/**
 * Workload 5b (baton drain): the connect workload's room (N clients, left open), then
 * `POST /v1/admin/rooms/:room/drain`. Recorded per client: when the close frame arrived (the
 * socket leaves OPEN), when the close event fired (TCP closed), its code and `retryIn`. The
 * reconnect schedule is modelled as close-frame time + retryIn (what the SDK does on 1012),
 * without reconnecting.
 */
import WebSocket from "ws";
import { CloseCode, parseCloseReason } from "../../protocol/close-codes.ts";
import { type BenchSocket, closeAll, now, pause } from "../lib/load.ts";
import type { Sizes } from "../lib/sizes.ts";
import { round, type Summary, summarize } from "../lib/stats.ts";
import type { Target } from "../lib/targets.ts";

export interface DrainResult {
	clients: number;
	closed: number;
	/** Closes that were 1012 with a `retryIn`. */
	withRetryIn: number;
	drainHttpMs: number;
	/** When clients received the close frame, ms after the drain request was sent. */
	closeFrameAtMs: Summary;
	/** When their close event fired (the server closed TCP), ms after the drain request. */
	closeEventAtMs: Summary;
	retryInMs: Summary;
	/** Modelled reconnects: first to last, ms. */
	reconnectWindowMs: number;
	/** Highest number of modelled reconnects within any 1 s. */
	peakReconnectsPerSec: number;
	/** Mean modelled reconnect rate over the window. */
	meanReconnectsPerSec: number;
	/** Highest number of close frames within any 1 s (what reconnecting at once would cost). */
	peakClosesPerSec: number;
	timedOut: boolean;
}

/** The most events within any `widthMs` span (two pointers over sorted times). */
export function peakWithin(times: readonly number[], widthMs: number): number {
	const sorted = [...times].sort((a, b) => a - b);
	let best = 0;
	let lo = 0;
	for (let hi = 0; hi < sorted.length; hi++) {
		while ((sorted[hi] ?? 0) - (sorted[lo] ?? 0) >= widthMs) lo++;
		best = Math.max(best, hi - lo + 1);
	}
	return best;
}

/** Polls (every 2 ms, bounded) for sockets leaving OPEN: `ws` has no event for a received close frame. */
async function watchCloseFrames(sockets: readonly BenchSocket[], t0: number, deadlineMs: number): Promise<Map<BenchSocket, number>> {
	const at = new Map<BenchSocket, number>();
	while (at.size < sockets.length && now() - t0 < deadlineMs) {
		for (const s of sockets) if (!at.has(s) && s.ws.readyState !== WebSocket.OPEN) at.set(s, now() - t0);
		await pause(2);
	}
	return at;
}

export async function runDrain(target: Target, room: string, all: readonly BenchSocket[], sizes: Sizes): Promise<DrainResult> {
	const sockets = all.filter((s) => s.isOpen);
	const t0 = now();
	const [frames] = await Promise.all([
		watchCloseFrames(sockets, t0, sizes.phaseDeadlineMs),
		target.admin("POST", `/v1/admin/rooms/${encodeURIComponent(room)}/drain`),
	]);
	const drainHttpMs = now() - t0;
	const deadline = new Promise<"timeout">((res) => setTimeout(() => res("timeout"), sizes.phaseDeadlineMs).unref());
	const outcome = await Promise.race([Promise.all(sockets.map((s) => s.closed)), deadline]);
	const reconnects: number[] = [];
	const retryIns: number[] = [];
	const eventsAt: number[] = [];
	for (const s of sockets) {
		const c = s.closeEvent;
		if (c === null) continue;
		eventsAt.push(c.at - t0);
		const retryIn = parseCloseReason(c.reason).retryIn;
		const frameAt = frames.get(s);
		if (c.code !== CloseCode.ServiceRestart || retryIn === undefined || frameAt === undefined) continue;
		retryIns.push(retryIn);
		reconnects.push(frameAt + retryIn);
	}
	await closeAll(sockets);
	const frameTimes = [...frames.values()];
	const window = reconnects.length > 0 ? Math.max(...reconnects) - Math.min(...reconnects) : Number.NaN;
	return {
		clients: sockets.length,
		closed: eventsAt.length,
		withRetryIn: retryIns.length,
		drainHttpMs: round(drainHttpMs, 1),
		closeFrameAtMs: summarize(frameTimes),
		closeEventAtMs: summarize(eventsAt),
		retryInMs: summarize(retryIns),
		reconnectWindowMs: round(window, 1),
		peakReconnectsPerSec: peakWithin(reconnects, 1000),
		meanReconnectsPerSec: window > 0 ? round((reconnects.length * 1000) / window, 1) : Number.NaN,
		peakClosesPerSec: peakWithin(frameTimes, 1000),
		timedOut: outcome === "timeout",
	};
}
