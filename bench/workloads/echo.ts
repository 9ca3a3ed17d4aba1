/**
 * Workload 3 (echo RTT): one client alone in a room publishes and waits for its own broadcast,
 * one message at a time. A short warm-up is excluded.
 */
import { now, openSocket } from "../lib/load.ts";
import type { Sizes } from "../lib/sizes.ts";
import { median, type Summary, summarize } from "../lib/stats.ts";
import { Target } from "../lib/targets.ts";

const WARMUP = 20;
const ROUND_TRIP_TIMEOUT_MS = 5000;

export interface EchoResult {
	roundTrips: number;
	timedOut: boolean;
	rttMs: Summary;
}

export async function runEcho(target: Target, room: string, sizes: Sizes): Promise<EchoResult> {
	const { socket } = await openSocket(target.socket(room, "echo"));
	const rtts: number[] = [];
	let timedOut = false;
	const started = now();
	try {
		for (let i = 0; i < WARMUP + sizes.echoRoundTrips; i++) {
			if (now() - started > sizes.phaseDeadlineMs) {
				timedOut = true;
				break;
			}
			const rtt = await new Promise<number | null>((res) => {
				const timer = setTimeout(() => res(null), ROUND_TRIP_TIMEOUT_MS);
				socket.onText = (text, at) => {
					const stamp = Target.stampOf(text);
					if (Number.isNaN(stamp)) return;
					clearTimeout(timer);
					res(at - stamp);
				};
				socket.send(Target.publishFrame(now()));
			});
			if (rtt === null) {
				timedOut = true;
				break;
			}
			if (i >= WARMUP) rtts.push(rtt);
		}
	} finally {
		await socket.close();
	}
	return { roundTrips: rtts.length, timedOut, rttMs: summarize(rtts) };
}

/** Several rounds as one result: p50/p90/p99 are medians over the rounds. */
export interface EchoRounds extends EchoResult {
	rounds: Array<{ p50: number; p99: number; timedOut: boolean }>;
}

export function combineEcho(rounds: readonly EchoResult[]): EchoRounds {
	const first = rounds[0];
	if (first === undefined) throw new Error("no echo rounds");
	const m = (f: (r: EchoResult) => number) => median(rounds.map(f));
	return {
		roundTrips: rounds.reduce((a, r) => a + r.roundTrips, 0),
		timedOut: rounds.some((r) => r.timedOut),
		rttMs: {
			...first.rttMs,
			p50: m((r) => r.rttMs.p50),
			p90: m((r) => r.rttMs.p90),
			p99: m((r) => r.rttMs.p99),
			mean: m((r) => r.rttMs.mean),
			max: Math.max(...rounds.map((r) => r.rttMs.max)),
			n: rounds.reduce((a, r) => a + r.rttMs.n, 0),
		},
		rounds: rounds.map((r) => ({ p50: r.rttMs.p50, p99: r.rttMs.p99, timedOut: r.timedOut })),
	};
}
