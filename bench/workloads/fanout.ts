/**
 * Workload 2 (fan-out): one publisher, S subscribers, M messages. The publisher stamps each
 * message with the bench clock and keeps at most `window` messages in flight (a message leaves
 * the window when the publisher receives its own broadcast copy), so every target is driven at
 * the rate it can sustain. Latency is receive time − send stamp, over every delivery.
 */
import { cpuUsage } from "node:process";
import { closeAll, now, openMany, openSocket, pause } from "../lib/load.ts";
import type { Sizes } from "../lib/sizes.ts";
import { median, perSecond, round, type Summary, summarize } from "../lib/stats.ts";
import { type SocketOptions, Target } from "../lib/targets.ts";

export interface FanoutResult {
	subscribers: number;
	messages: number;
	window: number;
	expected: number;
	delivered: number;
	timedOut: boolean;
	elapsedMs: number;
	deliveriesPerSec: number;
	latencyMs: Summary;
	/** CPU of the target's workerd per delivery (µs): cost independent of the client's speed. */
	workerdCpuUsPerDelivery: number;
	/** Share of one core the bench client itself used during the run (near 1 = client-bound). */
	clientCpuShare: number;
	/** Mean length of the message frames the subscribers received (bytes; the frames are ASCII). */
	frameBytes: number;
	/** `read` frames the subscribers sent (baton, CONTRACT.md §13); 0 for the other targets. */
	readsSent: number;
}

/** The publisher's sub (baton puts it in every message frame as `from`). */
export const PUBLISHER_SUB = "publisher";

/** Makes the publisher's frame for send stamp `t`. */
export type FrameMaker = (t: number) => string;

export interface PublishLoop {
	/** Resolves when all messages were echoed to the publisher, or at the deadline. */
	done: Promise<void>;
	firstSendAt: number;
	echoed: () => number;
}

/**
 * Drives `publisher`: sends `messages` stamped frames, at most `window` not yet echoed back.
 * `onEcho` lets a caller observe the publisher's own copies.
 */
export function publishLoop(
	publisher: { send(text: string): void; onText: (text: string, at: number) => void },
	messages: number,
	window: number,
	deadlineMs: number,
	frame: FrameMaker = Target.publishFrame,
): PublishLoop {
	let sent = 0;
	let echoed = 0;
	let finish: () => void = () => {};
	const done = new Promise<void>((res) => {
		finish = res;
	});
	const pump = () => {
		while (sent < messages && sent - echoed < window) {
			publisher.send(frame(now()));
			sent++;
		}
	};
	publisher.onText = (text) => {
		if (Number.isNaN(Target.stampOf(text))) return;
		echoed++;
		if (echoed >= messages) finish();
		else pump();
	};
	const timer = setTimeout(finish, deadlineMs);
	void done.then(() => clearTimeout(timer));
	const firstSendAt = now();
	pump();
	return { done, firstSendAt, echoed: () => echoed };
}

/** Optional hooks around the measured part of a run (e.g. to attach a profiler). */
export interface FanoutHooks {
	beforeSend?: () => Promise<void>;
	afterDelivery?: () => Promise<void>;
}

/** `frame`: what the publisher sends (the same-bytes floor sends padded frames, Target.paddedPublishFrame). */
export async function runFanout(
	target: Target,
	room: string,
	sizes: Sizes,
	hooks: FanoutHooks = {},
	opts: SocketOptions = {},
	frame: FrameMaker = Target.publishFrame,
): Promise<FanoutResult> {
	const S = sizes.fanoutSubscribers;
	const M = sizes.fanoutMessages;
	const subs = await openMany(S, sizes.connectConcurrency, sizes.phaseDeadlineMs, (i) => target.socket(room, `s${i}`, opts));
	const publisher = (await openSocket(target.socket(room, PUBLISHER_SUB, opts))).socket;
	// Let join notices (baton presence) drain before the clock starts.
	await pause(500);

	const expected = subs.sockets.length * M;
	const latencies = new Float64Array(expected);
	let delivered = 0;
	let deliveredBytes = 0;
	let lastAt = 0;
	let allDelivered: () => void = () => {};
	const deliveredAll = new Promise<void>((res) => {
		allDelivered = res;
	});
	for (const sub of subs.sockets) {
		sub.onText = (text, at) => {
			const stamp = Target.stampOf(text);
			if (Number.isNaN(stamp)) return;
			if (delivered < expected) latencies[delivered] = at - stamp;
			delivered++;
			deliveredBytes += text.length;
			lastAt = at;
			if (delivered === expected) allDelivered();
		};
	}

	await hooks.beforeSend?.();
	const cpu0 = target.proc.cpuMs();
	const client0 = cpuUsage();
	const loop = publishLoop(publisher, M, sizes.fanoutWindow, sizes.phaseDeadlineMs, frame);
	let timedOut = false;
	const deadline = new Promise<void>((res) => setTimeout(res, sizes.phaseDeadlineMs).unref());
	await Promise.race([Promise.all([loop.done, deliveredAll]), deadline.then(() => (timedOut = true))]);
	const elapsedMs = (delivered > 0 ? lastAt : now()) - loop.firstSendAt;
	const client = cpuUsage(client0);
	const cpu = target.proc.cpuMs() - cpu0;
	await hooks.afterDelivery?.();

	await closeAll([...subs.sockets, publisher]);
	return {
		subscribers: subs.sockets.length,
		messages: M,
		window: sizes.fanoutWindow,
		expected,
		delivered,
		timedOut,
		elapsedMs: round(elapsedMs, 1),
		deliveriesPerSec: perSecond(delivered, elapsedMs),
		latencyMs: summarize(latencies.subarray(0, Math.min(delivered, expected))),
		workerdCpuUsPerDelivery: delivered > 0 ? round((cpu * 1000) / delivered, 2) : Number.NaN,
		clientCpuShare: round((client.user + client.system) / 1000 / elapsedMs, 2),
		frameBytes: delivered > 0 ? round(deliveredBytes / delivered, 1) : Number.NaN,
		readsSent: subs.sockets.reduce((n, s) => n + s.readsSent, 0),
	};
}

/** Several rounds of one target as one result: headline figures are medians over the rounds. */
export interface FanoutRounds extends FanoutResult {
	rounds: Array<Pick<FanoutResult, "deliveriesPerSec" | "workerdCpuUsPerDelivery" | "timedOut"> & { p50: number; p99: number }>;
}

export function combineFanout(rounds: readonly FanoutResult[]): FanoutRounds {
	const first = rounds[0];
	if (first === undefined) throw new Error("no fan-out rounds");
	const m = (f: (r: FanoutResult) => number) => median(rounds.map(f));
	return {
		...first,
		delivered: rounds.reduce((a, r) => a + r.delivered, 0),
		expected: rounds.reduce((a, r) => a + r.expected, 0),
		timedOut: rounds.some((r) => r.timedOut),
		elapsedMs: round(
			rounds.reduce((a, r) => a + r.elapsedMs, 0),
			1,
		),
		deliveriesPerSec: m((r) => r.deliveriesPerSec),
		latencyMs: {
			...first.latencyMs,
			p50: m((r) => r.latencyMs.p50),
			p90: m((r) => r.latencyMs.p90),
			p99: m((r) => r.latencyMs.p99),
			max: Math.max(...rounds.map((r) => r.latencyMs.max)),
			mean: m((r) => r.latencyMs.mean),
			n: rounds.reduce((a, r) => a + r.latencyMs.n, 0),
		},
		workerdCpuUsPerDelivery: m((r) => r.workerdCpuUsPerDelivery),
		clientCpuShare: m((r) => r.clientCpuShare),
		frameBytes: m((r) => r.frameBytes),
		readsSent: m((r) => r.readsSent),
		rounds: rounds.map((r) => ({
			deliveriesPerSec: r.deliveriesPerSec,
			workerdCpuUsPerDelivery: r.workerdCpuUsPerDelivery,
			timedOut: r.timedOut,
			p50: r.latencyMs.p50,
			p99: r.latencyMs.p99,
		})),
	};
}
