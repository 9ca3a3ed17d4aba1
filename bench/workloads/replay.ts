/**
 * Workload 5a (baton replay): a reader leaves, `missed` messages are published, the reader
 * resumes with `after=<its last seq>`. Measured: time from opening the socket to `welcome`, and
 * to the last replayed message (the reader is then caught up).
 */
import { MessageType, parseServerFrame, type WelcomeFrame } from "../../protocol/messages.ts";
import { type BenchSocket, now, openSocket } from "../lib/load.ts";
import type { Sizes } from "../lib/sizes.ts";
import { round, type Summary, summarize } from "../lib/stats.ts";
import type { Target } from "../lib/targets.ts";
import { publishLoop } from "./fanout.ts";

export interface ReplayResult {
	missed: number;
	repeats: number;
	/** `replayed` announced by each resumed welcome (should equal `missed`). */
	replayed: number[];
	/** Whether each resume kept its session (`resumed:true`). */
	resumed: boolean[];
	toWelcomeMs: Summary;
	toLastReplayedMs: Summary;
	/** Publish rate while the reader was away (messages/s, paced by the writer's echoes). */
	publishPerSec: number;
	timedOut: boolean;
}

function welcomeOf(text: string | null): WelcomeFrame | null {
	const parsed = parseServerFrame(text ?? "");
	return parsed.ok && parsed.value.type === MessageType.Welcome ? parsed.value : null;
}

export async function runReplay(target: Target, room: string, sizes: Sizes): Promise<ReplayResult> {
	const missed = sizes.replayMissed;
	const writer = (await openSocket(target.socket(room, "writer"))).socket;
	const first = await openSocket(target.socket(room, "reader"));
	let reader: BenchSocket = first.socket;
	let welcome = welcomeOf(first.socket.firstFrame);
	let lastSeq = welcome?.seq ?? 0;
	const result: ReplayResult = {
		missed,
		repeats: 0,
		replayed: [],
		resumed: [],
		toWelcomeMs: summarize([]),
		toLastReplayedMs: summarize([]),
		publishPerSec: Number.NaN,
		timedOut: welcome === null,
	};
	const toWelcome: number[] = [];
	const toLast: number[] = [];
	let publishMs = 0;
	try {
		for (let r = 0; r < sizes.replayRepeats && welcome !== null; r++) {
			await reader.close();
			const loop = publishLoop(writer, missed, 32, sizes.phaseDeadlineMs);
			await loop.done;
			publishMs += now() - loop.firstSendAt;
			if (loop.echoed() < missed) {
				result.timedOut = true;
				break;
			}
			const head = lastSeq + missed;
			const marker = `"seq":${head},`;
			let lastAt = Number.NaN;
			let caughtUp: () => void = () => {};
			const gotLast = new Promise<void>((res) => {
				caughtUp = res;
			});
			const startedAt = now();
			const opened = await openSocket(target.socket(room, "reader", { resume: welcome.resume, after: lastSeq }), (text, at) => {
				if (text.includes(marker)) {
					lastAt = at;
					caughtUp();
				}
			});
			reader = opened.socket;
			await Promise.race([gotLast, new Promise<void>((res) => setTimeout(res, sizes.phaseDeadlineMs).unref())]);
			welcome = welcomeOf(opened.socket.firstFrame);
			if (welcome === null || Number.isNaN(lastAt)) {
				result.timedOut = true;
				break;
			}
			toWelcome.push(opened.handshakeMs);
			toLast.push(lastAt - startedAt);
			result.replayed.push(welcome.replayed);
			result.resumed.push(welcome.resumed);
			lastSeq = head;
		}
	} finally {
		await reader.close();
		await writer.close();
	}
	result.repeats = toLast.length;
	result.toWelcomeMs = summarize(toWelcome);
	result.toLastReplayedMs = summarize(toLast);
	result.publishPerSec = publishMs > 0 ? round((missed * toLast.length * 1000) / publishMs, 1) : Number.NaN;
	return result;
}
