/**
 * Diagnostic (issue 13's fan-out gap): what one inbound frame costs the target's workerd, with
 * nothing broadcast. `sockets` connections each send one frame per wave, `waves` waves apart by
 * `waveGapMs` (baton allows 20 `read` frames a second per connection, CONTRACT.md §13), then the
 * last socket sends a marker the room answers — its answer means the bursts were handled.
 *
 * Three kinds of frame, each on its own room:
 * - bare `ping` answered by the runtime (auto-response, a `pong` back): no JavaScript event;
 * - bare `sink` variant: one `webSocketMessage` event that does nothing;
 * - baton `{"type":"read","seq":0}`: one event, handled as §13 says (never answered).
 * Their difference says how much of a `read` is the runtime's event and how much baton's code.
 */
import { closeAll, openMany, pause } from "../lib/load.ts";
import type { Sizes } from "../lib/sizes.ts";
import { round } from "../lib/stats.ts";
import type { SocketOptions, Target } from "../lib/targets.ts";

export interface InboundResult {
	sockets: number;
	frames: number;
	/** Workerd CPU (user + system) per inbound frame, µs. */
	workerdCpuUsPerFrame: number;
	/** The marker's answer did not come within the phase deadline. */
	timedOut: boolean;
}

export interface InboundSpec {
	frame: string;
	/** A frame the room answers on the socket that sent it, and a test for its answer. */
	marker: { frame: string; answers: (text: string) => boolean };
	opts?: SocketOptions;
}

export interface InboundCosts {
	/** bare, `ping` answered by the runtime: the floor of a frame that reaches the room. */
	autoPing: InboundResult;
	/** bare, a `webSocketMessage` that does nothing: the runtime's cost of one event. */
	emptyEvent: InboundResult;
	/** baton, a `read` frame. */
	read: InboundResult;
}

const WAVES = 8;
/** 4 frames a second per connection: within baton's `read` allowance. */
const WAVE_GAP_MS = 250;

/** The bare marker frame (bench/targets/bare/worker.ts `SinkRoom`). */
const BARE_MARK = "mark";
/** baton answers an unknown frame type with an `error` frame to its sender only (one strike). */
const BATON_MARK = '{"type":"bench_mark"}';

export async function runInbound(target: Target, room: string, sizes: Sizes, spec: InboundSpec): Promise<InboundResult> {
	const opened = await openMany(sizes.fanoutSubscribers, sizes.connectConcurrency, sizes.phaseDeadlineMs, (i) => target.socket(room, `in${i}`, spec.opts));
	const sockets = opened.sockets;
	const last = sockets.at(-1);
	if (last === undefined) throw new Error("no socket opened");
	try {
		// As the fan-out does: let the connects' own frames (baton's presence) go out first.
		await pause(500);
		const cpu0 = target.proc.cpuMs();
		for (let wave = 0; wave < WAVES; wave++) {
			for (const s of sockets) s.send(spec.frame);
			await pause(WAVE_GAP_MS);
		}
		let timedOut = false;
		await new Promise<void>((res) => {
			const timer = setTimeout(() => {
				timedOut = true;
				res();
			}, sizes.phaseDeadlineMs);
			last.onText = (text) => {
				if (!spec.marker.answers(text)) return;
				clearTimeout(timer);
				res();
			};
			last.send(spec.marker.frame);
		});
		const frames = sockets.length * WAVES;
		return { sockets: sockets.length, frames, workerdCpuUsPerFrame: round(((target.proc.cpuMs() - cpu0) * 1000) / frames, 1), timedOut };
	} finally {
		await closeAll(sockets);
	}
}

/** The three measurements, each on a fresh room of `bare` and `baton`. */
export async function runInboundCosts(bare: Target, baton: Target, room: (name: string) => string, sizes: Sizes): Promise<InboundCosts> {
	const bareMarker = { frame: BARE_MARK, answers: (t: string) => t === BARE_MARK };
	return {
		// The sink room also has the auto-response, and answers its marker to the sender only.
		autoPing: await runInbound(bare, room("inbound-ping"), sizes, { frame: "ping", marker: bareMarker, opts: { variant: "sink" } }),
		emptyEvent: await runInbound(bare, room("inbound-sink"), sizes, { frame: "x", marker: bareMarker, opts: { variant: "sink" } }),
		read: await runInbound(baton, room("inbound-read"), sizes, {
			frame: '{"type":"read","seq":0}',
			marker: { frame: BATON_MARK, answers: (t) => t.startsWith('{"type":"error"') },
		}),
	};
}
