/**
 * A raw `ws` test client that records every frame and close, with event-driven waits that carry
 * a deadline and a diagnostic. It does no reconnecting of its own: tests drive that explicitly.
 */
import WebSocket from "ws";
import { type MessageFrame, parseServerFrame, type ServerFrame, type WelcomeFrame } from "../../../protocol/messages.ts";
import { signAccessToken } from "../../../src/core/auth/sign.ts";
import { TEST_SECRET } from "./server.ts";

/** Mints an access token for the e2e secret. `ttl` in seconds; `claims` adds or overrides claims. */
export function mintToken(sub: string, rooms: string[] = ["*"], opts: { ttl?: number; name?: string; claims?: Record<string, unknown> } = {}): Promise<string> {
	const now = Math.floor(Date.now() / 1000);
	const claims: Record<string, unknown> = { sub, rooms, exp: now + (opts.ttl ?? 3600), ...opts.claims };
	if (opts.name !== undefined) claims.name = opts.name;
	return signAccessToken(claims, TEST_SECRET);
}

/** A unique room name per test. */
export function uniqueRoom(prefix: string): string {
	return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface ConnectOptions {
	resume?: string;
	after?: number;
	region?: string;
	protocols?: string[];
}

export interface CloseInfo {
	code: number;
	reason: string;
}

type Waiter = { pred: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void };

export class TestClient {
	readonly frames: ServerFrame[] = [];
	/** Raw non-JSON text frames (e.g. "pong"). */
	readonly texts: string[] = [];
	readonly closed: Promise<CloseInfo>;
	closeInfo: CloseInfo | null = null;
	private waiters: Waiter[] = [];

	private constructor(
		readonly ws: WebSocket,
		readonly label: string,
	) {
		this.closed = new Promise((res) => {
			ws.on("close", (code, reason) => {
				this.closeInfo = { code, reason: reason.toString() };
				res(this.closeInfo);
			});
		});
		ws.on("error", () => {
			// Surfaced through `closed` (1006).
		});
		ws.on("message", (data, isBinary) => {
			const text = isBinary ? "" : data.toString();
			const parsed = parseServerFrame(text);
			if (!parsed.ok) {
				this.texts.push(text);
				return;
			}
			this.frames.push(parsed.value);
			this.waiters = this.waiters.filter((w) => {
				if (!w.pred(parsed.value)) return true;
				w.resolve(parsed.value);
				return false;
			});
		});
	}

	/** Opens a socket to `/v1/rooms/:room/ws` and resolves once it is open (before `welcome`). */
	static open(baseWsUrl: string, room: string, token: string, opts: ConnectOptions = {}, label = "client"): Promise<TestClient> {
		const url = new URL(`${baseWsUrl}/v1/rooms/${encodeURIComponent(room)}/ws`);
		url.searchParams.set("token", token);
		if (opts.resume !== undefined) url.searchParams.set("resume", opts.resume);
		if (opts.after !== undefined) url.searchParams.set("after", String(opts.after));
		if (opts.region !== undefined) url.searchParams.set("region", opts.region);
		const ws = new WebSocket(url, opts.protocols ?? ["baton.v1"]);
		const client = new TestClient(ws, label);
		return new Promise((res, rej) => {
			ws.once("open", () => res(client));
			ws.once("error", (err) => rej(new Error(`${label}: connect failed: ${err.message}`)));
		});
	}

	/** Opens and waits for `welcome`. */
	static async connect(
		baseWsUrl: string,
		room: string,
		token: string,
		opts: ConnectOptions = {},
		label = "client",
	): Promise<{ client: TestClient; welcome: WelcomeFrame }> {
		const client = await TestClient.open(baseWsUrl, room, token, opts, label);
		const welcome = await client.next((f): f is WelcomeFrame => f.type === "welcome", 15_000, "welcome");
		return { client, welcome: welcome as WelcomeFrame };
	}

	/**
	 * The first frame matching `pred`, among those received from index `since` on (already here
	 * or still to come). Rejects on deadline or close.
	 */
	next<T extends ServerFrame>(pred: (f: ServerFrame) => f is T, timeoutMs?: number, what?: string, since?: number): Promise<T>;
	next(pred: (f: ServerFrame) => boolean, timeoutMs?: number, what?: string, since?: number): Promise<ServerFrame>;
	next(pred: (f: ServerFrame) => boolean, timeoutMs = 15_000, what = "frame", since = 0): Promise<ServerFrame> {
		const seen = this.frames.slice(since).find(pred);
		if (seen) return Promise.resolve(seen);
		return new Promise((res, rej) => {
			const fail = (why: string) => {
				clearTimeout(timer);
				this.waiters = this.waiters.filter((w) => w.resolve !== done);
				rej(
					new Error(
						`${this.label}: ${why} while waiting for ${what}; last frames: ${JSON.stringify(this.frames.slice(-5))}; close: ${JSON.stringify(this.closeInfo)}`,
					),
				);
			};
			const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
			const done = (f: ServerFrame) => {
				clearTimeout(timer);
				res(f);
			};
			this.waiters.push({ pred, resolve: done });
			void this.closed.then(() => {
				if (this.waiters.some((w) => w.resolve === done)) fail("socket closed");
			});
		});
	}

	/** Waits until `count` message frames have arrived. */
	async waitForMessages(count: number, timeoutMs = 30_000): Promise<MessageFrame[]> {
		await this.next(() => this.messages().length >= count, timeoutMs, `${count} messages (have ${this.messages().length})`).catch((err: unknown) => {
			if (this.messages().length >= count) return;
			throw err;
		});
		return this.messages();
	}

	/** Message frames received so far, in arrival order. */
	messages(): MessageFrame[] {
		return this.frames.filter((f): f is MessageFrame => f.type === "message");
	}

	send(value: unknown): void {
		this.ws.send(typeof value === "string" ? value : JSON.stringify(value));
	}

	/** Publishes and waits for the ack (or error) carrying `id`. */
	async publish(id: string, data: unknown, timeoutMs = 15_000): Promise<ServerFrame> {
		const since = this.frames.length;
		this.send({ type: "publish", id, data });
		return this.next((f) => (f.type === "ack" || f.type === "error") && f.id === id, timeoutMs, `ack ${id}`, since);
	}

	/** Closes from the client side and waits for the close event. */
	async close(code = 1000): Promise<CloseInfo> {
		if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
		return this.closed;
	}

	/** Drops the TCP connection without a close frame. */
	terminate(): void {
		this.ws.terminate();
	}

	/** Resolves with the close, or rejects with a diagnostic after `timeoutMs`. */
	async waitClosed(timeoutMs = 15_000): Promise<CloseInfo> {
		let timer: NodeJS.Timeout | undefined;
		const deadline = new Promise<never>((_, rej) => {
			timer = setTimeout(
				() => rej(new Error(`${this.label}: not closed after ${timeoutMs} ms; last frames: ${JSON.stringify(this.frames.slice(-5))}`)),
				timeoutMs,
			);
		});
		try {
			return await Promise.race([this.closed, deadline]);
		} finally {
			clearTimeout(timer);
		}
	}
}

/** Asserts helper: seqs are exactly from..to, each once, in order. */
export function seqs(messages: MessageFrame[]): number[] {
	return messages.map((m) => m.seq);
}

export function range(from: number, to: number): number[] {
	return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
