/**
 * Node `ws` clients for the bench: one thin wrapper per socket (no parsing: handlers see raw
 * text) and a bounded-concurrency opener. Every loop here is bounded in count and in time.
 */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { ReadSchedule, utf8Bytes } from "../../client/read-ack.ts";

/** How a socket's handshake is judged complete: at `open`, or at the first server frame. */
export type HandshakeEnd = "open" | "first-frame";

export interface CloseEvent {
	code: number;
	reason: string;
	/** performance.now() when the close event fired. */
	at: number;
}

/** Milliseconds on the bench's monotonic clock (shared by every socket in this process). */
export const now = (): number => performance.now();

export class BenchSocket {
	/** Called for each text frame after the handshake frame. Replace to observe traffic. */
	onText: (text: string, at: number) => void = () => {};
	/** The first server frame (baton: `welcome`), when the handshake waits for it. */
	firstFrame: string | null = null;
	/** `read` frames this socket sent (OpenSpec.reads). */
	readsSent = 0;
	readonly closed: Promise<CloseEvent>;
	closeEvent: CloseEvent | null = null;

	constructor(
		readonly ws: WebSocket,
		readonly startedAt: number,
	) {
		this.closed = new Promise((res) => {
			ws.on("close", (code, reason) => {
				this.closeEvent = { code, reason: reason.toString(), at: now() };
				res(this.closeEvent);
			});
		});
		ws.on("error", () => {
			// Surfaced as a close (1006) or as a failed open.
		});
	}

	/**
	 * Calls `handler` with the code of the server's close frame and the time it arrived (the
	 * socket turns CLOSING then; `ws` fires `close` only once TCP closes, which local workerd may
	 * hold for seconds). `ws` exposes no event for the frame: this listens on its receiver.
	 */
	onCloseFrame(handler: (code: number, reason: string, at: number) => void): void {
		const receiver = (this.ws as unknown as { _receiver?: { on(event: "conclude", f: (code: number, reason: Buffer) => void): void } })._receiver;
		receiver?.on("conclude", (code, reason) => handler(code, reason.toString(), now()));
	}

	get isOpen(): boolean {
		return this.ws.readyState === WebSocket.OPEN;
	}

	get isClosed(): boolean {
		return this.ws.readyState === WebSocket.CLOSED;
	}

	send(text: string): void {
		if (this.isOpen) this.ws.send(text);
	}

	/** Closes with 1000 and waits (bounded) for the close event. */
	async close(timeoutMs = 5000): Promise<void> {
		if (this.isClosed) return;
		this.ws.close(1000);
		const timer = new Promise<void>((res) => setTimeout(res, timeoutMs).unref());
		await Promise.race([this.closed.then(() => undefined), timer]);
		if (!this.isClosed) this.ws.terminate();
	}
}

export interface OpenSpec {
	url: string;
	protocols?: string[];
	handshake: HandshakeEnd;
	timeoutMs?: number;
	/**
	 * Acknowledge received `message` frames with `read` frames on the SDK's schedule (baton,
	 * CONTRACT.md §13): a client that never reads is cut 4013 once the room has sent it, or all
	 * its clients together, more than the send-buffer limits.
	 */
	reads?: boolean;
}

/**
 * The subs present as the SDK counts them (its read threshold depends on it): `welcome`'s
 * `presenceCount`, then `join`/`leave` and `presence_count` frames. Prefix checks, no full parse
 * of message frames.
 */
function presenceCountAfter(text: string, count: number): number {
	if (text.startsWith('{"type":"presence","event":"join"')) return count + 1;
	if (text.startsWith('{"type":"presence","event":"leave"')) return Math.max(0, count - 1);
	if (text.startsWith('{"type":"presence_count"') || text.startsWith('{"type":"welcome"')) {
		const frame = JSON.parse(text) as { count?: unknown; presenceCount?: unknown };
		const n = frame.count ?? frame.presenceCount;
		if (typeof n === "number") return n;
	}
	return count;
}

/** The seq of a baton `message` frame, or null for any other frame (no full parse: hot path). */
function messageSeq(text: string): number | null {
	if (!text.startsWith('{"type":"message","seq":')) return null;
	return Number.parseInt(text.slice(24, text.indexOf(",", 24)), 10);
}

export interface Opened {
	socket: BenchSocket;
	handshakeMs: number;
}

/**
 * Opens one socket; resolves when the handshake (per `spec.handshake`) completes. `onText`, when
 * given, sees frames that arrive right behind the handshake frame (e.g. baton's replay), which
 * could otherwise be delivered before the caller gets the socket.
 */
export function openSocket(spec: OpenSpec, onText?: (text: string, at: number) => void): Promise<Opened> {
	const startedAt = now();
	const ws = new WebSocket(spec.url, spec.protocols ?? [], { perMessageDeflate: false, handshakeTimeout: spec.timeoutMs ?? 15_000 });
	const socket = new BenchSocket(ws, startedAt);
	if (onText !== undefined) socket.onText = onText;
	return new Promise((res, rej) => {
		const timer = setTimeout(() => {
			ws.terminate();
			rej(new Error(`handshake timed out after ${spec.timeoutMs ?? 15_000} ms: ${spec.url.replace(/token=[^&]+/, "token=…")}`));
		}, spec.timeoutMs ?? 15_000);
		const done = () => {
			clearTimeout(timer);
			res({ socket, handshakeMs: now() - startedAt });
		};
		ws.once("error", (err) => {
			clearTimeout(timer);
			rej(err);
		});
		ws.once("close", (code) => {
			clearTimeout(timer);
			rej(new Error(`closed with ${code} during the handshake`));
		});
		const schedule = spec.reads === true ? new ReadSchedule() : null;
		let present = 1;
		ws.on("message", (data, isBinary) => {
			const text = isBinary ? "" : data.toString();
			if (schedule !== null && !text.startsWith('{"type":"message"')) {
				present = presenceCountAfter(text, present);
				schedule.roomSize(present);
			}
			if (spec.handshake === "first-frame" && socket.firstFrame === null) {
				socket.firstFrame = text;
				done();
				return;
			}
			const at = now();
			if (schedule !== null) {
				const seq = messageSeq(text);
				// The SDK also reads on a timer; arrivals alone are enough for the bench's steady streams.
				if (seq !== null && schedule.received(utf8Bytes(text), Date.now()) <= Date.now() && schedule.worth(seq)) {
					socket.send(`{"type":"read","seq":${seq}}`);
					schedule.sent(seq, Date.now());
					socket.readsSent++;
				}
			}
			socket.onText(text, at);
		});
		if (spec.handshake === "open") ws.once("open", done);
	});
}

export interface OpenManyResult {
	sockets: BenchSocket[];
	/** The index (argument of `spec`) of each socket in `sockets`. */
	indexes: number[];
	handshakeMs: number[];
	/** Sockets that failed to open, and the first few reasons. */
	failures: number;
	failureSamples: string[];
	elapsedMs: number;
	/** True when the deadline stopped the run before `count` sockets were attempted. */
	timedOut: boolean;
}

/**
 * Opens `count` sockets with at most `concurrency` handshakes in flight, until `deadlineMs`.
 * `onText`, when given, sees every frame after each socket's handshake from the moment it opens.
 */
export async function openMany(
	count: number,
	concurrency: number,
	deadlineMs: number,
	spec: (i: number) => OpenSpec,
	onText?: (text: string, at: number) => void,
): Promise<OpenManyResult> {
	const started = now();
	const sockets: BenchSocket[] = [];
	const indexes: number[] = [];
	const handshakeMs: number[] = [];
	const failureSamples: string[] = [];
	let failures = 0;
	let next = 0;
	let timedOut = false;
	const lane = async () => {
		while (next < count) {
			if (now() - started > deadlineMs) {
				timedOut = true;
				return;
			}
			const i = next++;
			try {
				const opened = await openSocket(spec(i), onText);
				sockets.push(opened.socket);
				indexes.push(i);
				handshakeMs.push(opened.handshakeMs);
			} catch (err) {
				failures++;
				if (failureSamples.length < 5) failureSamples.push(err instanceof Error ? err.message : String(err));
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
	return { sockets, indexes, handshakeMs, failures, failureSamples, elapsedMs: now() - started, timedOut };
}

/** Closes every socket, a bounded batch at a time. */
export async function closeAll(sockets: readonly BenchSocket[], batch = 200): Promise<void> {
	for (let i = 0; i < sockets.length; i += batch) await Promise.all(sockets.slice(i, i + batch).map((s) => s.close()));
}

/** Resolves after `ms` (a pacing or settling pause, never a substitute for an event). */
export function pause(ms: number): Promise<void> {
	return new Promise((res) => setTimeout(res, ms));
}

/** A running pinger: every socket sends `ping` once per interval, phases spread evenly. */
export interface Pinger {
	readonly sent: () => number;
	readonly pongs: () => number;
	stop(): void;
}

/**
 * Makes every socket send the literal `ping` once per `intervalMs`, spread over the interval by a
 * single 100 ms ticker (no timer per socket). Counts `pong` answers through `onText`.
 */
export function startPinging(sockets: readonly BenchSocket[], intervalMs: number): Pinger {
	const TICK_MS = 100;
	const slots = Math.max(1, Math.round(intervalMs / TICK_MS));
	let tick = 0;
	let sent = 0;
	let pongs = 0;
	for (const s of sockets) {
		const previous = s.onText;
		s.onText = (text, at) => {
			if (text === "pong") pongs++;
			else previous(text, at);
		};
	}
	const timer = setInterval(() => {
		const slot = tick++ % slots;
		for (let i = slot; i < sockets.length; i += slots) {
			const s = sockets[i];
			if (s?.isOpen) {
				s.send("ping");
				sent++;
			}
		}
	}, TICK_MS);
	return { sent: () => sent, pongs: () => pongs, stop: () => clearInterval(timer) };
}
