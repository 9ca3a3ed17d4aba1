/**
 * CPU profiles of a target's Worker through wrangler's DevTools inspector (Chrome DevTools
 * Protocol, `Profiler` domain). Sampled, so figures are estimates; attaching an inspector also
 * makes the runtime report network events, so profiled runs are not the headline figures.
 */
import WebSocket from "ws";

interface CallFrame {
	functionName: string;
	url: string;
	lineNumber: number;
}

interface ProfileNode {
	id: number;
	callFrame: CallFrame;
	children?: number[];
}

interface Profile {
	nodes: ProfileNode[];
	samples?: number[];
	timeDeltas?: number[];
}

/** Sample gaps beyond this many intervals are idle time, not the next sample's. */
const MAX_GAP_INTERVALS = 20;

/** Self time of one function in a profile. */
export interface Hotspot {
	fn: string;
	selfMs: number;
	share: number;
}

export class ProfileResult {
	private readonly parent = new Map<number, number>();
	private readonly byId = new Map<number, ProfileNode>();
	/** Sampled time per node id (µs). */
	private readonly selfUs = new Map<number, number>();
	readonly totalMs: number;

	/**
	 * `intervalUs` is the sampling interval. A gap between samples far longer than it means the
	 * isolate was not running JavaScript (no samples are taken while it waits), so such a gap is
	 * charged as one interval rather than to whatever ran next.
	 */
	constructor(
		profile: Profile,
		private readonly intervalUs: number,
	) {
		for (const node of profile.nodes) {
			this.byId.set(node.id, node);
			for (const child of node.children ?? []) this.parent.set(child, node.id);
		}
		const samples = profile.samples ?? [];
		const deltas = profile.timeDeltas ?? [];
		let total = 0;
		for (let i = 0; i < samples.length; i++) {
			// timeDeltas[i] is the time since the previous sample: charge it to sample i's node.
			const raw = Math.max(0, deltas[i] ?? 0);
			const us = raw > this.intervalUs * MAX_GAP_INTERVALS ? this.intervalUs : raw;
			const id = samples[i] ?? 0;
			this.selfUs.set(id, (this.selfUs.get(id) ?? 0) + us);
			if (!this.isIdle(id)) total += us;
		}
		this.totalMs = total / 1000;
	}

	private label(node: ProfileNode): string {
		const f = node.callFrame;
		const file = f.url.split("/").slice(-2).join("/");
		return `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
	}

	private isIdle(id: number): boolean {
		const name = this.byId.get(id)?.callFrame.functionName ?? "";
		return name === "(idle)" || name === "(program)" || name === "(root)";
	}

	/** The busiest functions by self time, idle excluded. */
	hotspots(limit = 12): Hotspot[] {
		const byLabel = new Map<string, number>();
		for (const [id, us] of this.selfUs) {
			const node = this.byId.get(id);
			if (node === undefined || this.isIdle(id)) continue;
			const key = this.label(node);
			byLabel.set(key, (byLabel.get(key) ?? 0) + us);
		}
		return [...byLabel.entries()]
			.sort((a, b) => b[1] - a[1])
			.slice(0, limit)
			.map(([fn, us]) => ({ fn, selfMs: Math.round(us) / 1000, share: this.totalMs > 0 ? Math.round((us / 1000 / this.totalMs) * 1000) / 1000 : 0 }));
	}

	/**
	 * Where the self time of functions labelled `label` (as in `hotspots`) comes from: the nearest
	 * caller that is not itself a native or anonymous frame, by sampled time.
	 */
	callers(label: string, limit = 8): Hotspot[] {
		const byCaller = new Map<string, number>();
		let total = 0;
		for (const [id, us] of this.selfUs) {
			const node = this.byId.get(id);
			if (node === undefined || this.label(node) !== label) continue;
			let cur = this.parent.get(id);
			while (cur !== undefined) {
				const n = this.byId.get(cur);
				if (n !== undefined && n.callFrame.url !== "" && n.callFrame.functionName !== "") break;
				cur = this.parent.get(cur);
			}
			const caller = cur === undefined ? "(top)" : this.label(this.byId.get(cur) as ProfileNode);
			byCaller.set(caller, (byCaller.get(caller) ?? 0) + us);
			total += us;
		}
		return [...byCaller.entries()]
			.sort((a, b) => b[1] - a[1])
			.slice(0, limit)
			.map(([fn, us]) => ({ fn, selfMs: Math.round(us) / 1000, share: total > 0 ? Math.round((us / total) * 1000) / 1000 : 0 }));
	}

	/** Sampled time (ms) of stacks that pass through a function named `name` (counted once per sample). */
	inclusiveMs(name: string): number {
		let us = 0;
		for (const [id, t] of this.selfUs) {
			for (let cur: number | undefined = id; cur !== undefined; cur = this.parent.get(cur)) {
				if (this.byId.get(cur)?.callFrame.functionName === name) {
					us += t;
					break;
				}
			}
		}
		return us / 1000;
	}
}

/** A running profile session; `stop()` returns the profile. */
export class Profiler {
	private nextId = 0;
	private readonly pending = new Map<number, (result: unknown) => void>();

	private constructor(
		private readonly ws: WebSocket,
		private readonly intervalUs: number,
	) {
		ws.on("message", (data) => {
			let msg: { id?: unknown; result?: unknown };
			try {
				msg = JSON.parse(data.toString()) as { id?: unknown; result?: unknown };
			} catch {
				return;
			}
			if (typeof msg.id !== "number") return;
			const resolve = this.pending.get(msg.id);
			if (resolve === undefined) return;
			this.pending.delete(msg.id);
			resolve(msg.result);
		});
	}

	/** Connects to wrangler's inspector on `port` and starts sampling every `intervalUs`. */
	static async start(port: number, intervalUs = 200): Promise<Profiler> {
		const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
		await new Promise<void>((res, rej) => {
			ws.once("open", () => res());
			ws.once("error", rej);
		});
		const p = new Profiler(ws, intervalUs);
		await p.call("Profiler.enable");
		await p.call("Profiler.setSamplingInterval", { interval: intervalUs });
		await p.call("Profiler.start");
		return p;
	}

	private call(method: string, params: object = {}, timeoutMs = 30_000): Promise<unknown> {
		const id = ++this.nextId;
		return new Promise((res, rej) => {
			const timer = setTimeout(() => {
				this.pending.delete(id);
				rej(new Error(`inspector: ${method} got no answer in ${timeoutMs} ms`));
			}, timeoutMs);
			this.pending.set(id, (result) => {
				clearTimeout(timer);
				res(result);
			});
			this.ws.send(JSON.stringify({ id, method, params }));
		});
	}

	async stop(): Promise<ProfileResult> {
		try {
			const result = (await this.call("Profiler.stop")) as { profile?: Profile } | undefined;
			await this.call("Profiler.disable").catch(() => undefined);
			return new ProfileResult(result?.profile ?? { nodes: [] }, this.intervalUs);
		} finally {
			this.ws.close();
		}
	}
}
