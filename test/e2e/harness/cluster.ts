/**
 * A local multi-region cluster for end-to-end tests (CONTRACT.md §8), laid out like
 * `npm run dev:regions`: ONE `wrangler dev` process hosting every Durable Object (rooms, anchors,
 * registry) with persisted storage, and one `wrangler dev` gateway per region bound to it through
 * wrangler's dev registry. Every cluster has its own temp registry dir (`WRANGLER_REGISTRY_PATH`),
 * persist dir, free ports and gateway names, so clusters of parallel runs never see each other.
 *
 * Faults: `stopGateway(region)` is SIGKILL to that gateway's process group (a region outage:
 * its clients see 1006); `killRooms()` / `restartRooms()` crash the room host and start it again
 * on the same port and storage.
 */
import { existsSync, mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { mintToken } from "./client.ts";
import { freePort, type LogLine, ROOT, WranglerProcess, wranglerEnv } from "./process.ts";
import { TEST_ADMIN_TOKEN, TEST_SECRET } from "./server.ts";

/** How long a gateway may take to see the rooms worker in the dev registry. */
const WARM_UP_TIMEOUT_MS = 30_000;
const WARM_UP_RETRY_MS = 200;
/** Raw output kept per process, for diagnostics. */
const OUTPUT_KEEP_CHARS = 200_000;
/** The rooms worker's name (regions/wrangler.rooms.toml), as registered in the dev registry. */
const ROOMS_WORKER = "baton-rooms";

export const CLUSTER_REGIONS = ["wnam", "weur", "apac"] as const;
export type ClusterRegion = (typeof CLUSTER_REGIONS)[number];

/** The argument builders of scripts/regions.mjs (shared with `npm run dev:regions`). */
interface RegionsScript {
	roomsArgs(root: string, opts: { port: number; inspectorPort: number; persistTo: string; vars?: Record<string, string> }): string[];
	gatewayArgs(root: string, region: string, opts: { port: number; inspectorPort: number; vars?: Record<string, string>; suffix?: string }): string[];
}

/** Loaded by URL: the script is plain JS without declarations, typed by the interface above. */
async function regionsScript(): Promise<RegionsScript> {
	return (await import(pathToFileURL(join(ROOT, "scripts/regions.mjs")).href)) as RegionsScript;
}

export interface ClusterOptions {
	/** Worker vars for every process (`--var NAME:VALUE`). */
	vars?: Record<string, string>;
	/** Extra vars for the rooms process only (e.g. `BATON_FAULT_PAUSE_BEFORE_FLIP_MS`). */
	roomsVars?: Record<string, string>;
	/** Regions to start a gateway for (default all three). */
	regions?: readonly ClusterRegion[];
	/** Sees every chunk of every process's output, untrimmed (e.g. to scan it all for secrets). */
	onOutput?: (label: string, text: string) => void;
}

export interface Endpoint {
	url: string;
	wsUrl: string;
}

/** Process groups still alive, killed if the test process exits without `stop()`. */
const liveGroups = new Set<WranglerProcess>();
let exitHookInstalled = false;
function trackForExit(p: WranglerProcess): void {
	liveGroups.add(p);
	if (exitHookInstalled) return;
	exitHookInstalled = true;
	process.once("exit", () => {
		for (const g of liveGroups) {
			const pid = g.pid;
			if (pid === undefined || !g.running) continue;
			try {
				process.kill(-pid, "SIGKILL");
			} catch {
				// Already gone.
			}
		}
	});
}

export class RegionCluster {
	private readonly gateways = new Map<ClusterRegion, WranglerProcess>();
	private rooms: WranglerProcess;
	private roomsVars: Record<string, string>;
	private readonly warmUpRoom: string;

	private constructor(
		private readonly script: RegionsScript,
		private readonly baseDir: string,
		private readonly suffix: string,
		private readonly vars: Record<string, string>,
		roomsVars: Record<string, string>,
		roomsPort: number,
		private readonly onOutput?: (label: string, text: string) => void,
	) {
		this.roomsVars = roomsVars;
		this.rooms = this.newProcess("rooms", roomsPort);
		this.warmUpRoom = `warmup${suffix}`;
	}

	/** Starts the rooms process and one gateway per region, each gateway warmed up through the registry. */
	static async start(opts: ClusterOptions = {}): Promise<RegionCluster> {
		const script = await regionsScript();
		const baseDir = mkdtempSync(join(tmpdir(), "baton-cluster-"));
		const suffix = `-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
		const vars = { BATON_JWT_SECRET: TEST_SECRET, BATON_ADMIN_TOKEN: TEST_ADMIN_TOKEN, ...opts.vars };
		const cluster = new RegionCluster(script, baseDir, suffix, vars, opts.roomsVars ?? {}, await freePort(), opts.onOutput);
		try {
			// All at once: a gateway that is up before the rooms process retries its warm-up request.
			await Promise.all([cluster.launchRooms(), ...(opts.regions ?? CLUSTER_REGIONS).map(async (region) => cluster.startGateway(region, await freePort()))]);
		} catch (err) {
			await cluster.stop();
			throw err;
		}
		return cluster;
	}

	private get persistDir(): string {
		return join(this.baseDir, "state");
	}

	/** A wrangler process of this cluster: its own dev registry, output trimmed to OUTPUT_KEEP_CHARS. */
	private newProcess(label: string, port: number): WranglerProcess {
		const onOutput = this.onOutput;
		return new WranglerProcess(
			label,
			port,
			wranglerEnv({ WRANGLER_REGISTRY_PATH: join(this.baseDir, "registry") }),
			OUTPUT_KEEP_CHARS,
			ROOT,
			onOutput === undefined ? undefined : (text) => onOutput(label, text),
		);
	}

	private async launchRooms(): Promise<void> {
		trackForExit(this.rooms);
		const args = this.script.roomsArgs(ROOT, {
			port: this.rooms.port,
			inspectorPort: await freePort(),
			persistTo: this.persistDir,
			vars: { ...this.vars, ...this.roomsVars },
		});
		await this.rooms.launch(args);
	}

	/**
	 * Starts (or restarts, on its old port) the gateway of `region`, and waits until a room request
	 * succeeds through it: the dev registry may take a moment to show it the rooms worker.
	 */
	async startGateway(region: ClusterRegion, port?: number): Promise<Endpoint> {
		const old = this.gateways.get(region);
		if (old?.running) throw new Error(`gateway ${region} is already running`);
		const p = this.newProcess(`gateway ${region}`, port ?? old?.port ?? (await freePort()));
		this.gateways.set(region, p);
		trackForExit(p);
		const args = this.script.gatewayArgs(ROOT, region, { port: p.port, inspectorPort: await freePort(), vars: this.vars, suffix: this.suffix });
		await p.launch(args);
		await this.warmUp(p);
		return this.gateway(region);
	}

	/** Retries one room request through `p` until it answers 200, with a deadline and the last answer as diagnostic. */
	private async warmUp(p: WranglerProcess): Promise<void> {
		const token = await mintToken("warmup", [this.warmUpRoom]);
		const deadline = Date.now() + WARM_UP_TIMEOUT_MS;
		let last = "no attempt";
		for (let attempt = 0; attempt < WARM_UP_TIMEOUT_MS / WARM_UP_RETRY_MS && Date.now() < deadline; attempt++) {
			try {
				const res = await fetch(`${p.url}/v1/rooms/${this.warmUpRoom}`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
				if (res.ok) return;
				last = `${res.status} ${(await res.text()).slice(0, 300)}`;
			} catch (err) {
				last = err instanceof Error ? err.message : String(err);
			}
			this.nudgeRegistry();
			await new Promise((r) => setTimeout(r, WARM_UP_RETRY_MS));
		}
		throw new Error(`${p.label}: no room request succeeded within ${WARM_UP_TIMEOUT_MS} ms (last: ${last}); output:\n${p.output.slice(-2000)}`);
	}

	/**
	 * Touches the rooms worker's dev-registry entry, as wrangler's own 30 s heartbeat does. Gateways
	 * re-read the registry on every file event, but the read that follows the rooms process's
	 * (truncate + write) registration can see the file half-written and drop the entry until the
	 * next event; without a nudge a restarted room host stays "not found" for up to 30 s.
	 */
	private nudgeRegistry(): void {
		const entry = join(this.baseDir, "registry", ROOMS_WORKER);
		if (!existsSync(entry)) return;
		const now = new Date();
		try {
			utimesSync(entry, now, now);
		} catch {
			// Removed meanwhile: the next registration writes it again.
		}
	}

	/** Base URLs of a region's gateway (also valid while it is stopped: connects then fail). */
	gateway(region: ClusterRegion): Endpoint {
		const p = this.gateways.get(region);
		if (p === undefined) throw new Error(`no gateway for ${region} in this cluster`);
		return { url: p.url, wsUrl: `ws://127.0.0.1:${p.port}` };
	}

	/** Regions whose gateway is running. */
	get liveRegions(): ClusterRegion[] {
		return [...this.gateways].filter(([, p]) => p.running).map(([r]) => r);
	}

	/** Starts again, each on its old port, every gateway that was stopped. */
	async restoreGateways(): Promise<void> {
		const stopped = [...this.gateways].filter(([, p]) => !p.running).map(([r]) => r);
		await Promise.all(stopped.map((r) => this.startGateway(r)));
	}

	/** A region outage: SIGKILL the gateway's process group. */
	async stopGateway(region: ClusterRegion): Promise<void> {
		const p = this.gateways.get(region);
		if (p === undefined) throw new Error(`no gateway for ${region} in this cluster`);
		await p.kill();
		liveGroups.delete(p);
	}

	/** A crash of the room host: SIGKILL the rooms process group (storage stays on disk). */
	async killRooms(): Promise<void> {
		await this.rooms.kill();
		liveGroups.delete(this.rooms);
		// A killed process cannot withdraw its dev-registry entry, and miniflare refuses to register
		// a worker under a name another instance registered less than 90 s ago: without this the
		// restarted room host would stay unreachable for 90 s. (Not a concern outside local dev.)
		rmSync(join(this.baseDir, "registry", ROOMS_WORKER), { force: true });
	}

	/**
	 * Starts the rooms process again on the same port and storage (killing it first if it runs),
	 * then waits until a room request succeeds through every running gateway. `roomsVars`
	 * replaces the rooms-only vars from now on (e.g. `{}` to drop a fault var).
	 */
	async restartRooms(opts: { roomsVars?: Record<string, string> } = {}): Promise<void> {
		await this.killRooms();
		if (opts.roomsVars !== undefined) this.roomsVars = opts.roomsVars;
		this.rooms = this.newProcess("rooms", this.rooms.port);
		await this.launchRooms();
		await Promise.all([...this.gateways.values()].filter((p) => p.running).map((p) => this.warmUp(p)));
	}

	/** Structured log lines of the rooms process (since its last start). */
	get logs(): LogLine[] {
		return this.rooms.logs;
	}

	/** Raw output of the rooms process and every gateway, for assertion messages. */
	output(): string {
		return [this.rooms, ...this.gateways.values()].map((p) => `--- ${p.label}\n${p.output.slice(-2000)}`).join("\n");
	}

	/** The last `n` warn/error log lines of every process (rooms and gateways), for assertion messages. */
	problems(n = 10): string {
		const lines: LogLine[] = [this.rooms, ...this.gateways.values()].flatMap((p) =>
			p.logs.filter((l) => l.level === "warn" || l.level === "error").map((l) => ({ ...l, process: p.label })),
		);
		lines.sort((a, b) => Number(a.ts ?? 0) - Number(b.ts ?? 0));
		return JSON.stringify(lines.slice(-n));
	}

	/** The first rooms-process log line (already seen or future) matching `pred`. */
	waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 30_000, what = "log line"): Promise<LogLine> {
		return this.rooms.waitForLog(pred, timeoutMs, what);
	}

	/** An admin API call through `region`'s gateway (default: the first running one). */
	async admin(method: "GET" | "POST", path: string, body?: unknown, region?: ClusterRegion): Promise<{ status: number; body: unknown }> {
		const via = region ?? this.liveRegions[0];
		if (via === undefined) throw new Error("no gateway is running");
		const res = await fetch(`${this.gateway(via).url}${path}`, {
			method,
			headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "Content-Type": "application/json" },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		const text = await res.text();
		let parsed: unknown = text;
		try {
			parsed = JSON.parse(text);
		} catch {
			// Not JSON (e.g. a crash page): keep the text for the diagnostic.
		}
		return { status: res.status, body: parsed };
	}

	/** Kills every process and removes the temp dirs (persisted state and registry). */
	async stop(): Promise<void> {
		await Promise.all(
			[this.rooms, ...this.gateways.values()].map(async (p) => {
				await p.kill();
				liveGroups.delete(p);
			}),
		);
		rmSync(this.baseDir, { recursive: true, force: true });
	}
}
