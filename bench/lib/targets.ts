/**
 * The bench's targets: baton (the project's own wrangler.toml), the bare hibernation Durable
 * Object (the runtime's floor) and a partyserver room. Each is a separate `wrangler dev` process;
 * this module knows how to reach a room on each and what a publish looks like.
 */
import { join } from "node:path";
import type { OpenSpec } from "./load.ts";
import { ROOT } from "./snapshot.ts";
import { BENCH_ADMIN_TOKEN, BENCH_SECRET, mintToken } from "./token.ts";
import { WranglerProcess } from "./wrangler.ts";

export type TargetName = "baton" | "bare" | "partyserver";

let nextMessageId = 0;

/** Heartbeat settings of the `baton-hb` process (scaled-down production 30 s / 90 s, same 1:3). */
export const BENCH_HEARTBEAT = { intervalMs: 6000, timeoutMs: 18_000 } as const;
/**
 * Send budgets for a baton whose clients send no `read` frames (a diagnostic of what the reads
 * cost): without reads every connection's account only grows, and a full fan-out would be cut 4013.
 */
export const NO_READS_VARS: Readonly<Record<string, string>> = { SEND_BUFFER_MAX_BYTES: String(2 ** 30), SEND_BUFFER_ROOM_MAX_BYTES: String(2 ** 30) };

/** The production defaults the cost model scales to (CONTRACT.md §2). */
export const PRODUCTION_HEARTBEAT = { intervalMs: 30_000, timeoutMs: 90_000 } as const;

const BATON_VARS: Record<string, string> = {
	BATON_JWT_SECRET: BENCH_SECRET,
	BATON_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
	BATON_REGION: "wnam",
	BATON_ALLOWED_ORIGINS: "*",
	// Publishing is not throttled: the bench measures the room, not the rate limiter.
	RATE_LIMIT_PER_SEC: "100000",
	RATE_LIMIT_BURST: "100000",
	MAX_CONNECTIONS_PER_ROOM: "10000",
	HISTORY_LIMIT: "1000",
};

export interface SocketOptions {
	/** baton: `after=N` replay. */
	after?: number;
	/** baton: resume token from an earlier welcome. */
	resume?: string;
	/**
	 * bare: the room variant (bench/targets/bare/worker.ts): `manual` answers `ping` in JavaScript;
	 * `presence` sends a welcome-sized first frame (the handshake then waits for it, as for baton)
	 * and a `join` for `sub` to every other socket.
	 */
	variant?: BareVariant;
}

export type BareVariant = "manual" | "persist" | "attach" | "presence" | "welcome" | "count" | "sink";

export class Target {
	private constructor(
		readonly name: TargetName,
		readonly proc: WranglerProcess,
		/** What reports call this process: `label`, else its variant, else the target's name. */
		readonly label: string,
		/**
		 * baton: its clients acknowledge with `read` frames (CONTRACT.md §13). Off for a tree from
		 * before them (bench/compare.ts), which answers an unknown frame type with `bad_message`.
		 */
		readonly reads: boolean,
	) {}

	/**
	 * Starts `wrangler dev` for `name`; `variant` labels a second process of the same target (and
	 * names its temp directories), `label` overrides what reports call it, `config` serves another
	 * wrangler.toml (e.g. the project at an earlier commit), `reads: false` opens baton sockets
	 * that send no `read` frames.
	 */
	static async start(
		name: TargetName,
		opts: {
			viaProxy: boolean;
			stateBase: string;
			vars?: Record<string, string>;
			variant?: string;
			label?: string;
			config?: string;
			inspector?: boolean;
			reads?: boolean;
		},
	): Promise<Target> {
		const config = opts.config ?? (name === "baton" ? join(ROOT, "wrangler.toml") : join(ROOT, "bench/targets", name, "wrangler.toml"));
		const vars = name === "baton" ? { ...BATON_VARS, ...opts.vars } : (opts.vars ?? {});
		const proc = await WranglerProcess.start({
			name: opts.variant ?? name,
			config,
			vars,
			viaProxy: opts.viaProxy,
			stateBase: opts.stateBase,
			inspector: opts.inspector ?? true,
		});
		return new Target(name, proc, opts.label ?? opts.variant ?? name, opts.reads ?? true);
	}

	/** What a client waits for before the connection counts as established. */
	get handshake(): OpenSpec["handshake"] {
		return this.name === "baton" ? "first-frame" : "open";
	}

	/** How to open a socket to `room` as `sub`. */
	socket(room: string, sub: string, opts: SocketOptions = {}, timeoutMs = 15_000): OpenSpec {
		const ws = this.proc.wsUrl;
		const r = encodeURIComponent(room);
		switch (this.name) {
			case "baton": {
				const url = new URL(`${ws}/v1/rooms/${r}/ws`);
				url.searchParams.set("token", mintToken(sub));
				if (opts.after !== undefined) url.searchParams.set("after", String(opts.after));
				if (opts.resume !== undefined) url.searchParams.set("resume", opts.resume);
				return { url: url.toString(), protocols: ["baton.v1"], handshake: "first-frame", timeoutMs, reads: this.reads };
			}
			case "bare": {
				if (opts.variant === "presence" || opts.variant === "welcome" || opts.variant === "count") {
					return { url: `${ws}/rooms/${r}/ws?variant=${opts.variant}&sub=${encodeURIComponent(sub)}`, handshake: "first-frame", timeoutMs };
				}
				return { url: `${ws}/rooms/${r}/ws${opts.variant === undefined ? "" : `?variant=${opts.variant}`}`, handshake: "open", timeoutMs };
			}
			case "partyserver":
				return { url: `${ws}/parties/bench-room/${r}`, handshake: "open", timeoutMs };
		}
	}

	/**
	 * The frame a publisher sends, stamped `t` (bench clock, ms). The same text for every target:
	 * baton stores and wraps it, the others broadcast it verbatim. Ids are unique in this process
	 * (baton answers a repeated id in a session as a duplicate, without a broadcast).
	 */
	static publishFrame(t: number): string {
		return `{"type":"publish","id":"m${nextMessageId++}","data":{"t":${t}}}`;
	}

	/**
	 * `publishFrame`, `extra` bytes longer (a `pad` field before `data`): for the bare room, which
	 * broadcasts what it gets, the same bytes per delivery as baton's `message` frame.
	 */
	static paddedPublishFrame(extra: number): (t: number) => string {
		const field = `"pad":"${"x".repeat(Math.max(0, extra - '"pad":"",'.length))}",`;
		return (t) => Target.publishFrame(t).replace('"data":', `${field}"data":`);
	}

	/**
	 * How many bytes baton's `message` frame adds to the publish frame it stores (CONTRACT.md §5):
	 * `,"seq":N`, `,"from":"<sub>"` and `,"ts":<13 digits>` (`type` is as long either way).
	 */
	static messageFrameExtra(publisherSub: string, messages: number): number {
		return `,"seq":${messages}`.length + `,"from":${JSON.stringify(publisherSub)}`.length + `,"ts":${Date.now()}`.length;
	}

	/** The send stamp of a broadcast message frame, or NaN for any other frame. */
	static stampOf(text: string): number {
		const at = text.indexOf('"t":');
		return at === -1 ? Number.NaN : Number.parseFloat(text.slice(at + 4));
	}

	/** An admin API call on baton (CONTRACT.md §3). */
	async admin(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
		const res = await fetch(`${this.proc.url}${path}`, {
			method,
			headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
			signal: AbortSignal.timeout(30_000),
		});
		if (!res.ok) throw new Error(`${this.name}: ${method} ${path} answered ${res.status}: ${await res.text()}`);
		return res.json();
	}

	/** The bare target's per-room counters. */
	async bareStats(room: string, variant?: BareVariant): Promise<BareStats> {
		const query = variant === undefined ? "" : `?variant=${variant}`;
		const res = await fetch(`${this.proc.url}/rooms/${encodeURIComponent(room)}/stats${query}`, { signal: AbortSignal.timeout(10_000) });
		const body = (await res.json()) as Partial<BareStats>;
		return { wakeups: Number(body.wakeups ?? Number.NaN), pings: Number(body.pings ?? Number.NaN), sockets: Number(body.sockets ?? Number.NaN) };
	}

	/** baton's room stats, the fields the bench reads. */
	async batonStats(room: string): Promise<BatonStats> {
		const body = (await this.admin("GET", `/v1/admin/rooms/${encodeURIComponent(room)}/stats`)) as Record<string, unknown>;
		const num = (k: string) => (typeof body[k] === "number" ? (body[k] as number) : Number.NaN);
		return {
			seq: num("seq"),
			connections: num("connections"),
			wakeups: num("wakeups"),
			alarmRuns: num("alarmRuns"),
			alarm: typeof body.alarm === "number" ? body.alarm : null,
			heartbeatTimeouts: num("heartbeatTimeouts"),
		};
	}

	stop(): Promise<void> {
		return this.proc.stop();
	}
}

export interface BareStats {
	wakeups: number;
	pings: number;
	sockets: number;
}

export interface BatonStats {
	seq: number;
	connections: number;
	wakeups: number;
	alarmRuns: number;
	/** The pending alarm (epoch ms), or null. */
	alarm: number | null;
	heartbeatTimeouts: number;
}
