/**
 * One `wrangler dev` process, as DevServer (server.ts) and RegionCluster (cluster.ts) run it:
 * spawned detached (its own process group) with piped output, the JSON log lines it prints parsed
 * as they arrive, event-driven log waits with a deadline and a diagnostic, and SIGKILL of the
 * whole group (no graceful shutdown, no close frames).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { stripVTControlCharacters } from "node:util";

/** The project root (wrangler runs from here). */

/** How many times a wrangler that exits while starting is started in all. */
const LAUNCH_ATTEMPTS = 3;

/** wrangler exited before it was ready (as opposed to hanging). */
class WranglerExited extends Error {}

export const ROOT = resolve(import.meta.dirname, "../../..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const START_TIMEOUT_MS = 60_000;

/** A structured JSON log line printed by the Worker or a Durable Object. */
export interface LogLine {
	event: string;
	[key: string]: unknown;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; we release it just before wrangler binds it). */
/** wrangler could not bind a port (taken by another process between `freePort()` and its start). */
export function isAddressInUse(err: unknown): boolean {
	return err instanceof Error && err.message.includes("Address already in use");
}

export function freePort(): Promise<number> {
	return new Promise((res, rej) => {
		const srv = createServer();
		srv.once("error", rej);
		srv.listen(0, "127.0.0.1", () => {
			const addr = srv.address();
			const port = typeof addr === "object" && addr !== null ? addr.port : 0;
			srv.close(() => res(port));
		});
	});
}

/** The environment wrangler runs in: no metrics, no colour, no interactive session; plus `extra`. */
export function wranglerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
	return { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
}

/**
 * One `wrangler dev` process: launch, structured logs, SIGKILL of its group, relaunch. `logs` and
 * `output` accumulate over relaunches; `output` keeps the last `outputKeepChars` characters.
 */
export class WranglerProcess {
	/** Structured JSON log lines, in order. */
	readonly logs: LogLine[] = [];
	/** Raw output (stdout and stderr), kept for diagnostics. */
	output = "";
	private child: ChildProcess | null = null;
	private exited: Promise<void> = Promise.resolve();
	private logWaiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];

	constructor(
		/** Names the process in error messages. */
		readonly label: string,
		readonly port: number,
		private readonly env: NodeJS.ProcessEnv,
		private readonly outputKeepChars = Number.POSITIVE_INFINITY,
		/** The directory wrangler runs in (its wrangler.toml and node_modules): the project root unless an app of its own. */
		private readonly cwd = ROOT,
		/** Sees every chunk of output as it arrives (the kept `output` is trimmed; this is not). */
		private readonly onOutput?: (text: string) => void,
	) {}

	get url(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	get running(): boolean {
		return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
	}

	get pid(): number | undefined {
		return this.child?.pid;
	}

	/**
	 * Starts wrangler with `args` and resolves once it printed "Ready on" and `/healthz` answers.
	 * A wrangler that dies while starting (seen in CI: its esbuild child panicking while several
	 * processes bundle at once on two cores) is started again, at most twice; a start that hangs is
	 * not retried.
	 */
	async launch(args: string[]): Promise<void> {
		for (let attempt = 1; ; attempt++) {
			try {
				await this.launchOnce(args);
				return;
			} catch (err) {
				// A port taken since it was picked fails again with the same arguments: the caller picks others.
				if (!(err instanceof WranglerExited) || attempt >= LAUNCH_ATTEMPTS || isAddressInUse(err)) throw err;
				const panic = this.output.split("\n").find((l) => /panic|fatal error/i.test(l)) ?? "";
				console.warn(`${this.label}: wrangler exited while starting (attempt ${attempt}); starting it again. ${panic}`);
				await this.exited;
			}
		}
	}

	private async launchOnce(args: string[]): Promise<void> {
		const child = spawn(process.execPath, [WRANGLER, ...args], { cwd: this.cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], env: this.env });
		this.child = child;
		this.exited = new Promise((res) => child.once("exit", () => res()));
		let buffered = "";
		const onData = (chunk: Buffer) => {
			const text = chunk.toString();
			this.onOutput?.(text);
			this.output += text;
			if (this.output.length > this.outputKeepChars) this.output = this.output.slice(-this.outputKeepChars);
			buffered += text;
			const lines = buffered.split("\n");
			buffered = lines.pop() ?? "";
			for (const line of lines) this.onLine(line);
		};
		child.stdout?.on("data", onData);
		child.stderr?.on("data", onData);
		await new Promise<void>((res, rej) => {
			const timer = setTimeout(() => rej(new Error(`${this.label}: not ready after ${START_TIMEOUT_MS} ms:\n${this.output.slice(-3000)}`)), START_TIMEOUT_MS);
			const check = (chunk: Buffer) => {
				if (!chunk.toString().includes("Ready on")) return;
				clearTimeout(timer);
				child.stdout?.off("data", check);
				res();
			};
			child.stdout?.on("data", check);
			child.once("exit", (code) => {
				clearTimeout(timer);
				rej(new WranglerExited(`${this.label}: wrangler exited with ${code}:\n${this.output.slice(-3000)}`));
			});
		});
		// "Ready" is printed when the proxy listens; one request proves the Worker answers.
		const res = await fetch(`${this.url}/healthz`);
		if (!res.ok) throw new Error(`${this.label}: /healthz answered ${res.status}: ${await res.text()}`);
	}

	/** Wrangler prints warn/error lines inside a colored box, even with NO_COLOR: strip the escapes and the frame. */
	private onLine(raw: string): void {
		const line = stripVTControlCharacters(raw);
		const start = line.indexOf("{");
		const end = line.lastIndexOf("}");
		if (start === -1 || end < start) return;
		try {
			const value: unknown = JSON.parse(line.slice(start, end + 1));
			if (typeof value !== "object" || value === null || typeof (value as LogLine).event !== "string") return;
			const entry = value as LogLine;
			this.logs.push(entry);
			this.logWaiters = this.logWaiters.filter((w) => {
				if (!w.pred(entry)) return true;
				w.resolve(entry);
				return false;
			});
		} catch {
			// Not a JSON log line.
		}
	}

	/** Resolves with the first log line (already seen or future) matching `pred`. */
	waitForLog(pred: (l: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
		const seen = this.logs.find(pred);
		if (seen) return Promise.resolve(seen);
		return new Promise((res, rej) => {
			const timer = setTimeout(() => {
				this.logWaiters = this.logWaiters.filter((w) => w.resolve !== done);
				rej(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}; last logs: ${JSON.stringify(this.logs.slice(-10))}`));
			}, timeoutMs);
			const done = (l: LogLine) => {
				clearTimeout(timer);
				res(l);
			};
			this.logWaiters.push({ pred, resolve: done });
		});
	}

	/** SIGKILL the process group: no graceful shutdown, no close frames. */
	async kill(): Promise<void> {
		const child = this.child;
		if (child === null) return;
		if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
			try {
				process.kill(-child.pid, "SIGKILL");
			} catch {
				child.kill("SIGKILL");
			}
			await this.exited;
		}
		this.child = null;
	}
}
