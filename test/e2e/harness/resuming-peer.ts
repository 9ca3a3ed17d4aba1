/**
 * A resuming test peer: a raw `ws` client that does what CONTRACT.md §5–§7 ask of a client and
 * checks what they promise from the server. It is a test oracle, not the SDK:
 *
 * - every connect carries `?after=<last in-order seq>` and, once it has one, `?resume=<token>`;
 * - it validates every delivered seq (exactly once, in order, no gap; a replay comes right after
 *   `welcome` with `replayed` messages ending at `welcome.seq`) and records each breach in
 *   `violations` instead of hiding it;
 * - publishes stay pending until acked and are re-sent with the same id after every `welcome`;
 * - in "auto" mode it reconnects after every close the §6 table says to resume after (honouring
 *   `retryIn` from 1012/1013 reasons, backing off after abrupt loss); in "manual" mode it stays
 *   down until `reconnect()`, which honours `retryIn` the same way.
 *
 * Cuts are explicit so tests can stage each case: `cut("close")` (the client's own 1000),
 * `cut("terminate")` (TCP drop, no close frame), `cut("abandon")` (a half-open connection: the
 * socket stays open but the peer stops listening; a resume then replaces it with 4011).
 */
import WebSocket from "ws";
import { CloseCode, closeReaction, parseCloseReason } from "../../../protocol/close-codes.ts";
import { type AckFrame, type MessageFrame, PING, parseServerFrame, type ServerFrame, type WelcomeFrame } from "../../../protocol/messages.ts";

export type PeerMode = "auto" | "manual";
export type PeerState = "idle" | "connecting" | "open" | "down" | "stopped";
export type CutKind = "close" | "terminate" | "abandon";

export interface ResumingPeerOptions {
	/** `ws://host:port` of a gateway. */
	baseWsUrl: string;
	room: string;
	/** Access token (sent as `?token=`). */
	token: string;
	label: string;
	/** "auto" reconnects by itself; "manual" waits for `reconnect()`. Default "auto". */
	mode?: PeerMode;
	/** Random source for backoff jitter (seed it in chaos tests). Default Math.random. */
	random?: () => number;
	/** Backoff after an abrupt loss or a failed connect: doubling from min to max, ± jitter. */
	backoff?: { minMs: number; maxMs: number };
	/** Give up (state "stopped", a violation) after this long without a `welcome`. */
	reconnectDeadlineMs?: number;
	/** Upper bound on a `retryIn` the peer is willing to wait. */
	maxRetryInMs?: number;
	/** Pending publishes refused with `rate_limited`/`room_moving` are re-sent after this. */
	refusedRetryMs?: number;
	/** Sends the literal `ping` this often while open, as the SDK does (default: never). */
	pingEveryMs?: number;
}

/** One connection of the peer, from its connect to its close. */
export interface PeerConnection {
	index: number;
	/** Query the connect carried. */
	after: number;
	resumeOffered: boolean;
	startedAt: number;
	welcome?: WelcomeFrame;
	welcomeAt?: number;
	/** Frames of this connection in arrival order (welcome first). */
	frames: ServerFrame[];
	close?: { code: number; reason: string; at: number };
	/** The peer went deaf on this socket (`cut("abandon")`); its close is still recorded. */
	abandoned: boolean;
}

interface Pending {
	id: string;
	data: unknown;
	sends: number;
	settle: (ack: AckFrame) => void;
	fail: (err: Error) => void;
}

interface Waiter {
	check: () => boolean;
	done: () => void;
}

const DEFAULTS = {
	backoff: { minMs: 50, maxMs: 800 },
	reconnectDeadlineMs: 30_000,
	maxRetryInMs: 15_000,
	refusedRetryMs: 250,
} as const;

export class ResumingPeer {
	readonly label: string;
	readonly room: string;
	/** Messages delivered to the "app": exactly once, in seq order. */
	readonly delivered: MessageFrame[] = [];
	/** Every breach of the delivery contract the peer saw (empty in a passing test). */
	readonly violations: string[] = [];
	readonly connections: PeerConnection[] = [];
	/** Every ack received, per publish id, in arrival order (re-sends add `dup:true` ones). */
	readonly acks = new Map<string, AckFrame[]>();
	/** Acks swallowed on purpose by `loseAckOf` (the server sent them; the peer "never saw" them). */
	readonly lostAcks: AckFrame[] = [];
	/** Replays that started past `after + 1` because the server said `gap:true`. */
	readonly gaps: Array<{ after: number; first: number }> = [];
	/** Publish ids in the order they were first handed to `publish()`. */
	readonly published: string[] = [];
	/** Frames received on sockets after the peer stopped listening to them. */
	ignoredFrames = 0;
	duplicates = 0;
	/** Why the peer stopped, if it did on its own (a stop-code close, or giving up). */
	stoppedBy: string | null = null;

	private state: PeerState = "idle";
	private readonly mode: PeerMode;
	private readonly token: string;
	private readonly baseWsUrl: string;
	private readonly random: () => number;
	private readonly backoff: { minMs: number; maxMs: number };
	private readonly reconnectDeadlineMs: number;
	private readonly maxRetryInMs: number;
	private readonly refusedRetryMs: number;
	private readonly pingEveryMs: number | undefined;
	private ws: WebSocket | null = null;
	private current: PeerConnection | null = null;
	private session: string | null = null;
	private resumeToken: string | null = null;
	private lastSeqValue = 0;
	/** Replay still expected on the current connection: frames left and the seq it ends at. */
	private replay: { left: number; end: number; gap: boolean; first: boolean } | null = null;
	private readonly pending = new Map<string, Pending>();
	private readonly ackLosers = new Map<string, (ack: AckFrame) => void>();
	private waiters: Waiter[] = [];
	private readonly timers = new Set<NodeJS.Timeout>();
	/** Consecutive connects without a welcome (drives backoff). */
	private failures = 0;
	private downSince = 0;
	/** Set while a manual `reconnect()` (or auto mode) wants the peer up. */
	private wantUp = false;
	private reconnectTimer: NodeJS.Timeout | null = null;

	constructor(opts: ResumingPeerOptions) {
		this.label = opts.label;
		this.room = opts.room;
		this.token = opts.token;
		this.baseWsUrl = opts.baseWsUrl;
		this.mode = opts.mode ?? "auto";
		this.random = opts.random ?? Math.random;
		this.backoff = opts.backoff ?? DEFAULTS.backoff;
		this.reconnectDeadlineMs = opts.reconnectDeadlineMs ?? DEFAULTS.reconnectDeadlineMs;
		this.maxRetryInMs = opts.maxRetryInMs ?? DEFAULTS.maxRetryInMs;
		this.refusedRetryMs = opts.refusedRetryMs ?? DEFAULTS.refusedRetryMs;
		this.pingEveryMs = opts.pingEveryMs;
	}

	/** Creates a peer and waits for its first `welcome`. */
	static async start(opts: ResumingPeerOptions, timeoutMs = 15_000): Promise<ResumingPeer> {
		const peer = new ResumingPeer(opts);
		await peer.reconnect(timeoutMs);
		return peer;
	}

	// ------------------------------------------------------------------ facts

	get status(): PeerState {
		return this.state;
	}

	/** Highest seq delivered in order. */
	get lastSeq(): number {
		return this.lastSeqValue;
	}

	get sessionId(): string | null {
		return this.session;
	}

	/** The resume token of the last `welcome`. */
	get resume(): string | null {
		return this.resumeToken;
	}

	get lastConnection(): PeerConnection | undefined {
		return this.connections[this.connections.length - 1];
	}

	get welcomes(): WelcomeFrame[] {
		return this.connections.flatMap((c) => (c.welcome ? [c.welcome] : []));
	}

	/** Ids still waiting for an ack. */
	get pendingIds(): string[] {
		return [...this.pending.keys()];
	}

	/** A one-line summary for assertion messages and timeouts. */
	describe(): string {
		const conns = this.connections.map((c) => ({
			after: c.after,
			resumed: c.welcome?.resumed,
			replayed: c.welcome?.replayed,
			seq: c.welcome?.seq,
			close: c.close?.code,
			abandoned: c.abandoned || undefined,
		}));
		return JSON.stringify({
			peer: this.label,
			state: this.state,
			lastSeq: this.lastSeqValue,
			pending: this.pendingIds.slice(0, 10),
			violations: this.violations.slice(0, 10),
			stoppedBy: this.stoppedBy,
			connections: conns.slice(-6),
		});
	}

	// ------------------------------------------------------------------ actions

	/**
	 * Connects (again) and resolves with the next `welcome` once its replay has arrived. After a
	 * 1012/1013 close it first waits out the reason's `retryIn`; failed connects are retried with
	 * backoff until `timeoutMs`.
	 */
	async reconnect(timeoutMs = 15_000): Promise<WelcomeFrame> {
		if (this.state === "stopped") throw new Error(`${this.label}: stopped (${this.stoppedBy ?? "stop()"})`);
		if (this.state === "open") throw new Error(`${this.label}: already open`);
		const before = this.welcomes.length;
		const from = this.connections.length;
		if (this.state === "idle") {
			this.wantUp = true;
			this.downSince = Date.now();
			this.open();
		} else if (this.state === "down" && this.reconnectTimer === null) {
			this.wantUp = true;
			this.downSince = Date.now();
			this.scheduleReconnect(this.delayAfter(this.lastConnection?.close));
		}
		// Resolves once the welcome and every message it said it replays have arrived (or the
		// connection ended first: the caller then sees it in `connections`).
		const replayDone = () => {
			const conn = this.connections.slice(from).find((c) => c.welcome !== undefined);
			return conn?.welcome !== undefined && (conn.frames.length > conn.welcome.replayed || conn.close !== undefined || conn.abandoned);
		};
		await this.until(() => replayDone() || this.state === "stopped", timeoutMs, "a welcome and its replay");
		const welcome = this.welcomes[before];
		if (welcome === undefined) throw new Error(`${this.label}: stopped before a welcome; ${this.describe()}`);
		return welcome;
	}

	/**
	 * Publishes `data` as `id` and resolves with the ack the peer accepts (re-sending after every
	 * welcome until one comes). Publishing an id that was already acked sends it again: its ack
	 * then says `dup:true`.
	 */
	publish(id: string, data: unknown): Promise<AckFrame> {
		if (this.state === "stopped") return Promise.reject(new Error(`${this.label}: stopped`));
		if (this.pending.has(id)) return Promise.reject(new Error(`${this.label}: ${id} is already pending`));
		if (!this.acks.has(id)) this.published.push(id);
		const acked = new Promise<AckFrame>((settle, fail) => {
			const p: Pending = { id, data, sends: 0, settle, fail };
			this.pending.set(id, p);
			if (this.state === "open") this.sendPublish(p);
		});
		// A caller that fires and forgets must not turn `stop()` into an unhandled rejection.
		acked.catch(() => {});
		return acked;
	}

	/** The next ack for `id` is swallowed (kept in `lostAcks`); resolves with it when it arrives. */
	loseAckOf(id: string): Promise<AckFrame> {
		return new Promise((res) => this.ackLosers.set(id, res));
	}

	/** Ends the current connection as `kind` says; in "auto" mode the peer then resumes by itself. */
	cut(kind: CutKind): void {
		const ws = this.ws;
		const conn = this.current;
		if (ws === null || conn === null) throw new Error(`${this.label}: no connection to cut`);
		if (kind === "close") {
			ws.close(CloseCode.Normal);
			return;
		}
		if (kind === "terminate") {
			ws.terminate();
			return;
		}
		// Half-open: keep the socket, stop listening. Its close (4011 on resume) is still recorded.
		conn.abandoned = true;
		this.detach(conn, { code: 1006, reason: "abandoned by the peer", at: Date.now() });
	}

	/** Closes with 1000 and never reconnects. Pending publishes are rejected. */
	async stop(timeoutMs = 5_000): Promise<void> {
		const ws = this.ws;
		this.state = "stopped";
		this.stoppedBy ??= "stop()";
		this.wantUp = false;
		for (const t of this.timers) clearTimeout(t);
		this.timers.clear();
		this.reconnectTimer = null;
		for (const p of this.pending.values()) p.fail(new Error(`${this.label}: stopped with ${p.id} unacked`));
		this.pending.clear();
		if (ws !== null && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
			const closed = new Promise<void>((res) => ws.once("close", () => res()));
			ws.close(CloseCode.Normal);
			const timer = new Promise<void>((res) => setTimeout(res, timeoutMs).unref());
			await Promise.race([closed, timer]);
		}
		for (const c of this.connections) {
			// Abandoned sockets are still open at the server: drop them too.
			if (c.abandoned) this.abandonedSockets.get(c)?.terminate();
		}
		this.notify();
	}

	// ------------------------------------------------------------------ waits

	/**
	 * Resolves when `check()` holds (checked now and after every frame, open and close), or
	 * rejects after `timeoutMs` with the peer's summary.
	 */
	until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
		if (check()) return Promise.resolve();
		return new Promise((res, rej) => {
			const waiter: Waiter = {
				check,
				done: () => {
					clearTimeout(timer);
					res();
				},
			};
			const timer = setTimeout(() => {
				this.waiters = this.waiters.filter((w) => w !== waiter);
				rej(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}; ${this.describe()}`));
			}, timeoutMs);
			this.waiters.push(waiter);
		});
	}

	/** Waits until the peer has delivered every seq up to `seq`. */
	caughtUp(seq: number, timeoutMs = 15_000): Promise<void> {
		return this.until(() => this.lastSeqValue >= seq, timeoutMs, `seq ${seq} delivered`);
	}

	/** Waits until the peer's current connection is closed and resolves with that close. */
	async closed(timeoutMs = 15_000): Promise<{ code: number; reason: string; at: number }> {
		const conn = this.current ?? this.lastConnection;
		if (conn === undefined) throw new Error(`${this.label}: never connected`);
		await this.until(() => conn.close !== undefined, timeoutMs, `close of connection #${conn.index}`);
		if (conn.close === undefined) throw new Error("unreachable");
		return conn.close;
	}

	/** Waits until no publish is pending. */
	allAcked(timeoutMs = 15_000): Promise<void> {
		return this.until(() => this.pending.size === 0, timeoutMs, "every publish acked");
	}

	// ------------------------------------------------------------------ internals

	private readonly abandonedSockets = new Map<PeerConnection, WebSocket>();

	private notify(): void {
		if (this.waiters.length === 0) return;
		const ready = this.waiters.filter((w) => w.check());
		if (ready.length === 0) return;
		this.waiters = this.waiters.filter((w) => !ready.includes(w));
		for (const w of ready) w.done();
	}

	private timer(fn: () => void, ms: number): NodeJS.Timeout {
		const t = setTimeout(() => {
			this.timers.delete(t);
			fn();
		}, ms);
		this.timers.add(t);
		return t;
	}

	private open(): void {
		if (this.state === "stopped") return;
		const url = new URL(`${this.baseWsUrl}/v1/rooms/${encodeURIComponent(this.room)}/ws`);
		url.searchParams.set("token", this.token);
		if (this.resumeToken !== null) url.searchParams.set("resume", this.resumeToken);
		url.searchParams.set("after", String(this.lastSeqValue));
		const conn: PeerConnection = {
			index: this.connections.length,
			after: this.lastSeqValue,
			resumeOffered: this.resumeToken !== null,
			startedAt: Date.now(),
			frames: [],
			abandoned: false,
		};
		this.connections.push(conn);
		this.current = conn;
		this.state = "connecting";
		// A connect that hangs (e.g. while wrangler dev restarts) fails after the handshake timeout.
		const ws = new WebSocket(url, ["baton.v1"], { handshakeTimeout: 5_000 });
		this.ws = ws;
		ws.on("message", (data, isBinary) => {
			if (this.current !== conn) {
				this.ignoredFrames += 1;
				return;
			}
			if (isBinary) {
				this.violations.push(`#${conn.index}: binary frame from the server`);
				return;
			}
			const parsed = parseServerFrame(data.toString());
			if (!parsed.ok) {
				if (data.toString() !== "pong") this.violations.push(`#${conn.index}: unparseable frame ${data.toString().slice(0, 80)}`);
				return;
			}
			this.onFrame(conn, parsed.value);
			this.notify();
		});
		ws.on("error", () => {
			// Always followed by "close" (1006 for a refused or reset connection).
		});
		ws.on("close", (code, reason) => {
			const info = { code, reason: reason.toString(), at: Date.now() };
			if (this.current !== conn) {
				// A socket the peer abandoned: record how the server ended it (4011 on a resume).
				conn.close ??= info;
				this.abandonedSockets.delete(conn);
				this.notify();
				return;
			}
			this.detach(conn, info);
		});
	}

	/** The current connection is over (closed, or abandoned): record it and react per §6. */
	private detach(conn: PeerConnection, info: { code: number; reason: string; at: number }): void {
		if (conn.abandoned && this.ws !== null) this.abandonedSockets.set(conn, this.ws);
		if (!conn.abandoned) conn.close = info;
		this.current = null;
		this.ws = null;
		this.replay = null;
		if (this.state === "stopped") {
			this.notify();
			return;
		}
		if (conn.welcome === undefined) this.failures += 1;
		if (this.state === "open") this.downSince = info.at;
		this.state = "down";
		if (!conn.abandoned) {
			const reaction = closeReaction(info.code);
			// A 1000 is the peer's own staged cut (the server never closes with it): resume like any
			// other close. Server stop codes (4011, 4003, …) stop the peer, and so does 4001: the
			// peer has one fixed token and no way to get a new one.
			const ownNormal = info.code === CloseCode.Normal;
			if ((reaction.kind === "stop" && !ownNormal) || (reaction.kind === "resume" && reaction.refreshToken)) {
				this.state = "stopped";
				this.stoppedBy = `close ${info.code} ${info.reason}`;
				this.wantUp = false;
				this.notify();
				return;
			}
		}
		if (this.mode === "manual" && !(this.wantUp && conn.welcome === undefined)) this.wantUp = false;
		if (this.mode === "auto" || this.wantUp) {
			if (Date.now() - this.downSince > this.reconnectDeadlineMs) {
				this.violations.push(`gave up: no welcome within ${this.reconnectDeadlineMs} ms`);
				this.state = "stopped";
				this.stoppedBy = "reconnect deadline";
			} else {
				this.wantUp = true;
				this.scheduleReconnect(this.delayAfter(conn.abandoned ? undefined : info));
			}
		}
		this.notify();
	}

	/** How long to wait before the next connect, after `close` (§6 reactions). */
	private delayAfter(close: { code: number; reason: string; at: number } | undefined): number {
		if (close === undefined) return 0;
		const reaction = closeReaction(close.code);
		if (close.code === CloseCode.Normal) return 0;
		if (reaction.kind === "resume" && reaction.delay === "retryIn") {
			const retryIn = Math.min(parseCloseReason(close.reason).retryIn ?? 0, this.maxRetryInMs);
			return Math.max(0, close.at + retryIn - Date.now());
		}
		if (reaction.kind === "resume" && reaction.delay === "now") return 0;
		const exp = Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** Math.max(0, this.failures));
		return Math.floor(exp / 2 + (this.random() * exp) / 2);
	}

	/**
	 * Node timers may fire a millisecond before `Date.now()` reaches their due time (they run on a
	 * monotonic clock and round), so the wait is checked against the wall clock the close was
	 * stamped with and topped up, never cut short.
	 */
	private scheduleReconnect(delayMs: number, dueAt = Date.now() + delayMs): void {
		if (this.reconnectTimer !== null) return;
		this.reconnectTimer = this.timer(() => {
			this.reconnectTimer = null;
			const early = dueAt - Date.now();
			if (early > 0) return this.scheduleReconnect(early, dueAt);
			if (this.state === "down" && this.wantUp) this.open();
		}, delayMs);
	}

	private onFrame(conn: PeerConnection, frame: ServerFrame): void {
		conn.frames.push(frame);
		if (conn.frames.length === 1 && frame.type !== "welcome") this.violations.push(`#${conn.index}: first frame is ${frame.type}, not welcome`);
		switch (frame.type) {
			case "welcome":
				this.onWelcome(conn, frame);
				return;
			case "message":
				this.onMessage(conn, frame);
				return;
			case "ack":
				this.endReplayEarly(conn, frame.type);
				this.onAck(frame);
				return;
			case "error":
				this.endReplayEarly(conn, frame.type);
				this.onError(frame.id, frame.code);
				return;
			default:
				this.endReplayEarly(conn, frame.type);
		}
	}

	private onWelcome(conn: PeerConnection, welcome: WelcomeFrame): void {
		if (conn.welcome !== undefined) {
			this.violations.push(`#${conn.index}: second welcome`);
			return;
		}
		conn.welcome = welcome;
		conn.welcomeAt = Date.now();
		this.session = welcome.session;
		this.resumeToken = welcome.resume;
		this.state = "open";
		this.failures = 0;
		if (this.mode === "manual") this.wantUp = false;
		if (welcome.seq < conn.after) this.violations.push(`#${conn.index}: server head ${welcome.seq} is behind delivered seq ${conn.after} (lost messages)`);
		if (!welcome.gap && welcome.seq >= conn.after && welcome.replayed !== welcome.seq - conn.after) {
			this.violations.push(`#${conn.index}: replayed ${welcome.replayed}, expected ${welcome.seq - conn.after} (after=${conn.after}, seq=${welcome.seq})`);
		}
		this.replay = welcome.replayed > 0 ? { left: welcome.replayed, end: welcome.seq, gap: welcome.gap, first: true } : null;
		// Re-send everything unacked, in first-publish order, with the same ids.
		for (const p of this.pending.values()) this.sendPublish(p);
		if (this.pingEveryMs !== undefined) this.keepPinging(conn, this.pingEveryMs);
	}

	/** `ping` every `everyMs` while `conn` is the open connection (the runtime answers `pong`). */
	private keepPinging(conn: PeerConnection, everyMs: number): void {
		this.timer(() => {
			const ws = this.ws;
			if (this.current !== conn || ws === null || ws.readyState !== WebSocket.OPEN) return;
			ws.send(PING);
			this.keepPinging(conn, everyMs);
		}, everyMs);
	}

	private endReplayEarly(conn: PeerConnection, type: string): void {
		if (this.replay === null) return;
		this.violations.push(`#${conn.index}: ${type} frame interleaved with the replay (${this.replay.left} replayed messages still due)`);
		this.replay = null;
	}

	private onMessage(conn: PeerConnection, m: MessageFrame): void {
		const replay = this.replay;
		if (replay !== null) {
			if (replay.first && replay.gap && m.seq > this.lastSeqValue + 1) {
				this.gaps.push({ after: this.lastSeqValue, first: m.seq });
				this.lastSeqValue = m.seq - 1;
			}
			replay.first = false;
			replay.left -= 1;
			if (replay.left === 0) {
				if (m.seq !== replay.end) this.violations.push(`#${conn.index}: replay ended at seq ${m.seq}, welcome said ${replay.end}`);
				this.replay = null;
			}
		}
		if (m.seq <= this.lastSeqValue) {
			this.duplicates += 1;
			this.violations.push(`#${conn.index}: duplicate seq ${m.seq} (delivered up to ${this.lastSeqValue})`);
			return;
		}
		if (m.seq !== this.lastSeqValue + 1) {
			this.violations.push(`#${conn.index}: gap: seq ${m.seq} after ${this.lastSeqValue}`);
			return;
		}
		this.lastSeqValue = m.seq;
		this.delivered.push(m);
	}

	private onAck(ack: AckFrame): void {
		const loser = this.ackLosers.get(ack.id);
		if (loser !== undefined) {
			this.ackLosers.delete(ack.id);
			this.lostAcks.push(ack);
			loser(ack);
			return;
		}
		const seen = this.acks.get(ack.id) ?? [];
		const first = seen[0];
		if (first !== undefined && first.seq !== ack.seq) this.violations.push(`ack ${ack.id}: seq ${ack.seq}, first acked as ${first.seq}`);
		const lost = this.lostAcks.find((a) => a.id === ack.id);
		if (lost !== undefined && lost.seq !== ack.seq) this.violations.push(`ack ${ack.id}: seq ${ack.seq}, the lost ack said ${lost.seq}`);
		seen.push(ack);
		this.acks.set(ack.id, seen);
		const p = this.pending.get(ack.id);
		if (p === undefined) return;
		this.pending.delete(ack.id);
		p.settle(ack);
	}

	private onError(id: string | undefined, code: string): void {
		if (id === undefined) {
			this.violations.push(`error frame ${code} without an id`);
			return;
		}
		const p = this.pending.get(id);
		if (p === undefined) return;
		if (code === "rate_limited" || code === "room_moving") {
			// Not stored: send again later on this connection, or after the next welcome.
			this.timer(() => {
				if (this.state === "open" && this.pending.get(id) === p) this.sendPublish(p);
			}, this.refusedRetryMs);
			return;
		}
		this.pending.delete(id);
		this.violations.push(`publish ${id} refused: ${code}`);
		p.fail(new Error(`${this.label}: publish ${id} refused: ${code}`));
	}

	private sendPublish(p: Pending): void {
		const ws = this.ws;
		if (ws === null || ws.readyState !== WebSocket.OPEN) return;
		p.sends += 1;
		ws.send(JSON.stringify({ type: "publish", id: p.id, data: p.data }));
	}
}

// ---------------------------------------------------------------------- steady publishing

export interface SteadyPublisher {
	/** Stops issuing new publishes (those already issued stay pending until acked). */
	stop(): void;
	/** Publishes issued so far. */
	readonly issued: number;
}

/**
 * Publishes from `peer` at a steady, bounded rate: one publish per `everyMs`, at most `max`, and
 * never more than `maxInFlight` unacked at once (a tick with too many in flight is skipped).
 */
export function publishSteadily(
	peer: ResumingPeer,
	opts: { prefix: string; everyMs: number; max: number; maxInFlight?: number; data?: (i: number) => unknown },
): SteadyPublisher {
	let issued = 0;
	const maxInFlight = opts.maxInFlight ?? 8;
	const tick = setInterval(() => {
		if (issued >= opts.max || peer.status === "stopped") {
			clearInterval(tick);
			return;
		}
		if (peer.pendingIds.length >= maxInFlight) return;
		const i = issued++;
		void peer.publish(`${opts.prefix}-${i}`, opts.data ? opts.data(i) : { from: peer.label, i });
	}, opts.everyMs);
	return {
		stop: () => clearInterval(tick),
		get issued() {
			return issued;
		},
	};
}

// ---------------------------------------------------------------------- HTTP helpers

/** Every kept history item of `room`, paging through `GET /v1/rooms/:room/messages`. */
export async function fetchHistory(
	baseUrl: string,
	room: string,
	token: string,
	maxPages = 100,
): Promise<{ messages: MessageFrame[]; seq: number; oldest: number | null }> {
	const messages: MessageFrame[] = [];
	let after = 0;
	let seq = 0;
	let oldest: number | null = null;
	for (let page = 0; page < maxPages; page++) {
		const res = await fetch(`${baseUrl}/v1/rooms/${encodeURIComponent(room)}/messages?after=${after}&limit=500`, {
			headers: { Authorization: `Bearer ${token}` },
		});
		if (!res.ok) throw new Error(`history of ${room} answered ${res.status}: ${await res.text()}`);
		const body = (await res.json()) as { messages: MessageFrame[]; seq: number; oldest: number | null };
		seq = body.seq;
		oldest = body.oldest;
		messages.push(...body.messages);
		const last = body.messages[body.messages.length - 1];
		if (last === undefined || last.seq >= body.seq) return { messages, seq, oldest };
		after = last.seq;
	}
	throw new Error(`history of ${room}: more than ${maxPages} pages`);
}

/** `POST /v1/rooms/:room/messages` (a server-side publish by the token's sub); resolves with the seq. */
export async function httpPublish(baseUrl: string, room: string, token: string, data: unknown, id?: string): Promise<number> {
	const res = await fetch(`${baseUrl}/v1/rooms/${encodeURIComponent(room)}/messages`, {
		method: "POST",
		headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
		body: JSON.stringify(id === undefined ? { data } : { data, id }),
	});
	if (!res.ok) throw new Error(`publish to ${room} answered ${res.status}: ${await res.text()}`);
	return ((await res.json()) as { seq: number }).seq;
}

/**
 * How many times `wrangler dev` reloaded the Worker because a source file changed (it watches
 * the tree). A reload drops every socket like a crash: quote it in assertion messages so a close
 * code of 1006 in a shared working tree is not mistaken for a server bug.
 */
export function reloadsOf(server: { output: string }): number {
	return server.output.split("Reloading local server").length - 1;
}

/** Ids that occur more than once among `messages`, with their counts. */
export function duplicatedIds(messages: MessageFrame[]): Record<string, number> {
	const counts = new Map<string, number>();
	for (const m of messages) counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
	return Object.fromEntries([...counts].filter(([, n]) => n > 1));
}
