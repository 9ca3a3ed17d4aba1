/**
 * One bench target process: a real `wrangler dev` on a free loopback port with its own config,
 * `--var` overrides and a temporary persisted state directory (the approach of
 * test/e2e/harness/server.ts, trimmed to what the bench needs plus /proc probes).
 *
 * The Worker is served from a frozen copy (snapshot.ts) with `--no-bundle`, so edits to the
 * project during a run cannot make wrangler reload it under the measurement.
 *
 * wrangler dev runs two workerd processes: a proxy Worker on the public port and the user Worker
 * on an internal one. By default the bench talks to the user Worker's own socket, so the local
 * proxy hop (which does not exist on the edge) is not measured; `viaProxy` keeps it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { freePort } from "../../test/e2e/harness/process.ts";
import { cpuMs, findUserWorkerd, listeningPorts, rssKiB } from "./procfs.ts";
import { snapshotOnce, WRANGLER, wranglerEnv } from "./snapshot.ts";

const START_TIMEOUT_MS = 90_000;
/** Starts of one target on fresh ports when a picked port was taken meanwhile. */
const START_ATTEMPTS = 3;
const OUTPUT_KEEP_CHARS = 20_000;

/** A structured JSON log line printed by a Worker. */
export interface LogLine {
	event: string;
	[key: string]: unknown;
}

function isLogLine(value: unknown): value is LogLine {
	return typeof value === "object" && value !== null && typeof (value as { event?: unknown }).event === "string";
}

export interface WranglerOptions {
	/** Label for diagnostics. */
	name: string;
	/** wrangler config file, absolute. */
	config: string;
	vars?: Record<string, string>;
	/** Talk to wrangler's public (proxy) port instead of the user Worker's own socket. */
	viaProxy?: boolean;
	/** Parent directory for the bundle and persisted state (tmpfs by default: see bench/README.md). */
	stateBase: string;
	/**
	 * Let wrangler attach its DevTools proxy to the Worker's inspector (needed for CPU profiles).
	 * Attached, it receives every `console.log` over the inspector protocol, which makes each log
	 * line cost the Worker's thread ~0.13 ms (measured: 10 lines per connect, 3.48 vs 2.49 ms of
	 * workerd CPU per connect): off for the headline figures, as on the edge.
	 */
	inspector?: boolean;
}

/** Every process started and not yet stopped, so an interrupted run can stop them all. */
const running = new Set<WranglerProcess>();

/** Stops every process this module started (also those still starting). */
export async function stopAllProcesses(): Promise<void> {
	await Promise.all([...running].map((p) => p.stop()));
}

export class WranglerProcess {
	private child: ChildProcess | null = null;
	private stopped = false;
	private exited: Promise<void> = Promise.resolve();
	private output = "";
	/** Structured log lines seen so far (bounded: the oldest are dropped past 50,000). */
	private readonly logs: LogLine[] = [];
	private droppedLogs = 0;
	/** The workerd process running the user Worker. */
	workerdPid = 0;
	/** The port the bench sends traffic to. */
	port = 0;
	/** wrangler's DevTools inspector port (for CPU profiles). */
	inspectorPort = 0;

	private constructor(
		readonly options: WranglerOptions,
		private readonly workDir: string,
		private readonly config: string,
		private readonly publicPort: number,
	) {}

	/**
	 * Starts `wrangler dev`. A port picked free can be taken before wrangler binds it (the other
	 * targets' workerds start at the same time and bind ephemeral ports): then it starts again on
	 * fresh ports, up to START_ATTEMPTS times.
	 */
	static async start(options: WranglerOptions): Promise<WranglerProcess> {
		for (let attempt = 1; ; attempt++) {
			try {
				return await WranglerProcess.startOnce(options);
			} catch (err) {
				const taken = err instanceof Error && err.message.includes("Address already in use");
				if (!taken || attempt >= START_ATTEMPTS) throw err;
			}
		}
	}

	private static async startOnce(options: WranglerOptions): Promise<WranglerProcess> {
		const workDir = mkdtempSync(join(options.stateBase, `baton-bench-${options.name}-`));
		try {
			const config = await snapshotOnce(options.config, options.stateBase);
			const proc = new WranglerProcess(options, workDir, config, await freePort());
			running.add(proc);
			try {
				await proc.launch();
			} catch (err) {
				await proc.stop();
				throw err;
			}
			return proc;
		} catch (err) {
			rmSync(workDir, { recursive: true, force: true });
			throw err;
		}
	}

	get url(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	get wsUrl(): string {
		return `ws://127.0.0.1:${this.port}`;
	}

	/** Resident memory of the user Worker's workerd, KiB. */
	rssKiB(): number {
		return rssKiB(this.workerdPid) ?? Number.NaN;
	}

	/** CPU time of the user Worker's workerd (all threads), ms. */
	cpuMs(): number {
		return cpuMs(this.workerdPid);
	}

	/** A position in the log stream, for `logsSince`. */
	get logCursor(): number {
		return this.droppedLogs + this.logs.length;
	}

	/** Log lines printed since `cursor` that match `pred`. */
	logsSince(cursor: number, pred: (l: LogLine) => boolean): LogLine[] {
		return this.logs.slice(Math.max(0, cursor - this.droppedLogs)).filter(pred);
	}

	private async launch(): Promise<void> {
		const inspectorPort = await freePort();
		this.inspectorPort = inspectorPort;
		const args = [
			WRANGLER,
			"dev",
			"--config",
			this.config,
			"--no-bundle",
			"--ip",
			"127.0.0.1",
			"--port",
			String(this.publicPort),
			"--inspector-port",
			String(inspectorPort),
			"--persist-to",
			this.workDir,
			"--show-interactive-dev-session=false",
		];
		for (const [k, v] of Object.entries(this.options.vars ?? {})) args.push("--var", `${k}:${v}`);
		if (this.stopped) throw new Error(`${this.options.name}: stopped before it started`);
		const child = spawn(process.execPath, args, {
			cwd: dirname(this.config),
			detached: true,
			stdio: ["ignore", "pipe", "pipe"],
			// wrangler does not attach its inspector proxy while it believes a VS Code debugger is
			// attached (`VSCODE_INSPECTOR_OPTIONS` set); logs still reach it through workerd's stdout.
			env: this.options.inspector === false ? { ...wranglerEnv, VSCODE_INSPECTOR_OPTIONS: "{}" } : wranglerEnv,
		});
		this.child = child;
		this.exited = new Promise((res) => child.once("exit", () => res()));
		let partial = "";
		let ready: () => void = () => {};
		const readyPromise = new Promise<void>((res) => {
			ready = res;
		});
		const onData = (chunk: Buffer) => {
			const text = chunk.toString();
			this.output = (this.output + text).slice(-OUTPUT_KEEP_CHARS);
			if (text.includes("Ready on")) ready();
			const lines = (partial + text).split("\n");
			partial = lines.pop() ?? "";
			for (const line of lines) this.onLine(line);
		};
		child.stdout?.on("data", onData);
		child.stderr?.on("data", onData);
		let timer: NodeJS.Timeout | undefined;
		try {
			await Promise.race([
				readyPromise,
				new Promise<never>((_, rej) => {
					timer = setTimeout(
						() => rej(new Error(`${this.options.name}: wrangler dev not ready in ${START_TIMEOUT_MS} ms:\n${this.output.slice(-3000)}`)),
						START_TIMEOUT_MS,
					);
				}),
				this.exited.then(() => {
					throw new Error(`${this.options.name}: wrangler dev exited:\n${this.output.slice(-3000)}`);
				}),
			]);
		} finally {
			clearTimeout(timer);
		}
		const pid = child.pid === undefined ? null : findUserWorkerd(child.pid);
		if (pid === null) throw new Error(`${this.options.name}: could not find the user Worker's workerd process`);
		this.workerdPid = pid;
		this.port = this.options.viaProxy ? this.publicPort : ((await this.findEntryPort()) ?? this.publicPort);
		const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
		if (!res.ok) throw new Error(`${this.options.name}: /healthz answered ${res.status}`);
	}

	/** The user workerd's entry socket: the one of its loopback ports that answers /healthz. */
	private async findEntryPort(): Promise<number | null> {
		for (const port of listeningPorts(this.workerdPid)) {
			try {
				const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
				await res.body?.cancel();
				if (res.ok) return port;
			} catch {
				// The inspector or a debug socket: not HTTP, or not this route.
			}
		}
		return null;
	}

	private onLine(line: string): void {
		const start = line.indexOf("{");
		if (start === -1) return;
		try {
			const value: unknown = JSON.parse(line.slice(start));
			if (!isLogLine(value)) return;
			this.logs.push(value);
			if (this.logs.length > 50_000) {
				this.logs.splice(0, 10_000);
				this.droppedLogs += 10_000;
			}
		} catch {
			// Not a JSON log line.
		}
	}

	/** SIGTERM, then SIGKILL, to this process group only; removes the persisted state. */
	async stop(): Promise<void> {
		this.stopped = true;
		running.delete(this);
		const child = this.child;
		this.child = null;
		const pid = child?.pid;
		if (child !== null && pid !== undefined && child.exitCode === null) {
			const kill = (signal: NodeJS.Signals) => {
				try {
					process.kill(-pid, signal);
				} catch {
					// Already gone.
				}
			};
			kill("SIGTERM");
			const timer = setTimeout(() => kill("SIGKILL"), 3000);
			await this.exited;
			clearTimeout(timer);
			// workerd children left behind by wrangler would be orphaned: the group goes too.
			kill("SIGKILL");
		}
		rmSync(this.workDir, { recursive: true, force: true });
	}
}
