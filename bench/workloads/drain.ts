/**
 * Workload 5b (baton drain): the connect workload's room (N clients, left open), then
 * `POST /v1/admin/rooms/:room/drain`. Recorded per client: when the close frame arrived, when the
 * close event fired (TCP closed), its code and `retryIn`. Then the reconnect wave: each client
 * resumes (`?resume=…&after=<its seq>`, as the SDK does on 1012) once `retryIn` has passed since
 * its close frame. Reported: the window and peak rate of the reconnects, every client's lateness
 * (its welcome − (close frame + retryIn): what the wave costs a client on top of the wait it was
 * told), and the time from the drain to the last welcome.
 */
import { CloseCode, parseCloseReason } from "../../protocol/close-codes.ts";
import { MessageType, parseServerFrame } from "../../protocol/messages.ts";
import { type BenchSocket, closeAll, now, openSocket, pause } from "../lib/load.ts";
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
	/** When their close event fired (the server closed TCP), ms after the drain request: those in by the wave's end. */
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
	/** The reconnect wave: every client resuming after its `retryIn`. */
	wave: ReconnectWave;
}

export interface ReconnectWave {
	clients: number;
	/** Welcomes received, and how many of them resumed the client's session. */
	welcomed: number;
	resumed: number;
	failures: number;
	failureSamples: string[];
	/** From the drain request to the last welcome, ms. */
	lastWelcomeMs: number;
	/** Per client: welcome − (close frame + retryIn), ms. */
	latenessMs: Summary;
	/** Highest number of reconnects (dials) within any 1 s. */
	peakDialsPerSec: number;
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

/** What a client needs to resume: its sub, session token and last seq (from its welcome). */
function resumeOf(socket: BenchSocket): { resume: string; seq: number } | null {
	const parsed = parseServerFrame(socket.firstFrame ?? "");
	return parsed.ok && parsed.value.type === MessageType.Welcome ? { resume: parsed.value.resume, seq: parsed.value.seq } : null;
}

export async function runDrain(target: Target, room: string, all: readonly BenchSocket[], subs: readonly string[], sizes: Sizes): Promise<DrainResult> {
	const open = all.map((socket, i) => ({ socket, sub: subs[i] ?? "" })).filter((c) => c.socket.isOpen);
	const sockets = open.map((c) => c.socket);
	const t0 = now();
	// Each client's close frame (code, retryIn) schedules its dial once retryIn has passed.
	const closeFrames = new Map<BenchSocket, { at: number; code: number; retryIn: number | undefined }>();
	const dials: Array<Promise<{ welcomeAt: number; dueAt: number; resumed: boolean } | string>> = [];
	const dialTimes: number[] = [];
	const reopened: BenchSocket[] = [];
	let allFrames: () => void = () => {};
	const framesIn = new Promise<void>((res) => {
		allFrames = res;
	});
	for (const { socket, sub } of open) {
		const state = resumeOf(socket);
		socket.onCloseFrame((code, reason, at) => {
			const retryIn = parseCloseReason(reason).retryIn;
			closeFrames.set(socket, { at: at - t0, code, retryIn });
			if (closeFrames.size === open.length) allFrames();
			if (code !== CloseCode.ServiceRestart || retryIn === undefined || state === null) return;
			dials.push(
				pause(retryIn).then(async () => {
					dialTimes.push(now());
					try {
						const back = await openSocket(target.socket(room, sub, { resume: state.resume, after: state.seq }));
						reopened.push(back.socket);
						const welcome = parseServerFrame(back.socket.firstFrame ?? "");
						const resumed = welcome.ok && welcome.value.type === MessageType.Welcome && welcome.value.resumed;
						return { welcomeAt: now(), dueAt: at + retryIn, resumed };
					} catch (err) {
						return err instanceof Error ? err.message : String(err);
					}
				}),
			);
		});
	}
	await target.admin("POST", `/v1/admin/rooms/${encodeURIComponent(room)}/drain`);
	const drainHttpMs = now() - t0;
	const deadline = new Promise<"timeout">((res) => setTimeout(() => res("timeout"), sizes.phaseDeadlineMs).unref());
	const framed = await Promise.race([framesIn, deadline]);
	// Every close frame is in (or the deadline passed): every dial is scheduled; wait for the wave.
	const settled = await Promise.race([Promise.all(dials), deadline]);
	const outcomes = settled === "timeout" ? [] : settled;
	const welcomes = outcomes.filter((o): o is { welcomeAt: number; dueAt: number; resumed: boolean } => typeof o !== "string");
	const failures = outcomes.filter((o): o is string => typeof o === "string");
	// TCP closes of drained sockets that had arrived by the end of the wave (local workerd holds
	// them until the room idles, which the wave prevents); the rest are dropped here.
	const eventsAt = sockets.flatMap((s) => (s.closeEvent === null ? [] : [s.closeEvent.at - t0]));
	for (const s of sockets) if (!s.isClosed) s.ws.terminate();
	await closeAll(reopened);
	const frameTimes = [...closeFrames.values()].map((f) => f.at);
	const restarts = [...closeFrames.values()].filter((f) => f.code === CloseCode.ServiceRestart && f.retryIn !== undefined);
	const retryIns = restarts.map((f) => f.retryIn ?? 0);
	const reconnects = restarts.map((f) => f.at + (f.retryIn ?? 0));
	const window = reconnects.length > 0 ? Math.max(...reconnects) - Math.min(...reconnects) : Number.NaN;
	return {
		clients: sockets.length,
		closed: closeFrames.size,
		withRetryIn: restarts.length,
		drainHttpMs: round(drainHttpMs, 1),
		closeFrameAtMs: summarize(frameTimes),
		closeEventAtMs: summarize(eventsAt),
		retryInMs: summarize(retryIns),
		reconnectWindowMs: round(window, 1),
		peakReconnectsPerSec: peakWithin(reconnects, 1000),
		meanReconnectsPerSec: window > 0 ? round((reconnects.length * 1000) / window, 1) : Number.NaN,
		peakClosesPerSec: peakWithin(frameTimes, 1000),
		timedOut: framed === "timeout" || settled === "timeout",
		wave: {
			clients: open.length,
			welcomed: welcomes.length,
			resumed: welcomes.filter((w) => w.resumed).length,
			failures: failures.length + (settled === "timeout" ? open.length - welcomes.length : 0),
			failureSamples: failures.slice(0, 5),
			lastWelcomeMs: welcomes.length > 0 ? round(Math.max(...welcomes.map((w) => w.welcomeAt)) - t0, 1) : Number.NaN,
			latenessMs: summarize(welcomes.map((w) => w.welcomeAt - w.dueAt)),
			peakDialsPerSec: peakWithin(dialTimes, 1000),
		},
	};
}
