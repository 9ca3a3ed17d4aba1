/**
 * Starts a real `wrangler dev` process on a free loopback port with persisted storage, for
 * end-to-end tests. `kill()` is SIGKILL to the whole process group (the local stand-in for a
 * runtime reset: clients see 1006); `restart()` starts again on the same port and storage.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const TEST_SECRET = "e2e-secret-0123456789abcdef0123456789abcdef";
export const TEST_ADMIN_TOKEN = "e2e-admin-token";
const ROOT = resolve(import.meta.dirname, "../../..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const START_TIMEOUT_MS = 60_000;

/** A free TCP port on 127.0.0.1 (the OS picks it; we release it just before wrangler binds it). */
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

export interface ServerOptions {
	/** Extra Worker vars (`--var NAME:VALUE`), e.g. short heartbeat settings. */
	vars?: Record<string, string>;
	/** Persist directory to share with another process or a previous run; a temp dir by default. */
	persistDir?: string;
	/** wrangler config file (default: the project's wrangler.toml). */
	config?: string;
	/** Port to bind (default: a free one). */
	port?: number;
}

export interface LogLine {
	event: string;
	[key: string]: unknown;
}

export class DevServer {
	private child: ChildProcess | null = null;
	private exited: Promise<void> = Promise.resolve();
	/** Structured JSON log lines printed by the Worker and the room, in order. */
	readonly logs: LogLine[] = [];
	/** Raw output, kept for diagnostics. */
	output = "";
	private logWaiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];

	private constructor(
		readonly port: number,
		readonly persistDir: string,
		private readonly vars: Record<string, string>,
		private readonly config: string,
		private readonly ownsPersistDir: boolean,
	) {}

	static async start(opts: ServerOptions = {}): Promise<DevServer> {
		const port = opts.port ?? (await freePort());
		const ownsPersistDir = opts.persistDir === undefined;
		const persistDir = opts.persistDir ?? mkdtempSync(join(tmpdir(), "baton-e2e-"));
		const vars = { BATON_JWT_SECRET: TEST_SECRET, BATON_ADMIN_TOKEN: TEST_ADMIN_TOKEN, BATON_REGION: "wnam", ...opts.vars };
		const server = new DevServer(port, persistDir, vars, opts.config ?? join(ROOT, "wrangler.toml"), ownsPersistDir);
		await server.launch();
		return server;
	}

	get url(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	get wsUrl(): string {
		return `ws://127.0.0.1:${this.port}`;
	}

	private async launch(): Promise<void> {
		const inspectorPort = await freePort();
		const args = [
			WRANGLER,
			"dev",
			"--config",
			this.config,
			"--ip",
			"127.0.0.1",
			"--port",
			String(this.port),
			"--inspector-port",
			String(inspectorPort),
			"--persist-to",
			this.persistDir,
			"--show-interactive-dev-session=false",
		];
		for (const [k, v] of Object.entries(this.vars)) args.push("--var", `${k}:${v}`);
		const child = spawn(process.execPath, args, {
			cwd: ROOT,
			detached: true,
			stdio: ["ignore", "pipe", "pipe"],
			env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
		});
		this.child = child;
		this.exited = new Promise((res) => child.once("exit", () => res()));
		let buffered = "";
		const onData = (chunk: Buffer) => {
			const text = chunk.toString();
			this.output += text;
			buffered += text;
			const lines = buffered.split("\n");
			buffered = lines.pop() ?? "";
			for (const line of lines) this.onLine(line);
		};
		child.stdout?.on("data", onData);
		child.stderr?.on("data", onData);
		await new Promise<void>((res, rej) => {
			const timer = setTimeout(() => rej(new Error(`wrangler dev did not start in ${START_TIMEOUT_MS} ms:\n${this.output.slice(-3000)}`)), START_TIMEOUT_MS);
			const check = (chunk: Buffer) => {
				if (chunk.toString().includes("Ready on")) {
					clearTimeout(timer);
					child.stdout?.off("data", check);
					res();
				}
			};
			child.stdout?.on("data", check);
			child.once("exit", (code) => {
				clearTimeout(timer);
				rej(new Error(`wrangler dev exited with ${code}:\n${this.output.slice(-3000)}`));
			});
		});
		// "Ready" is printed when the proxy listens; one request proves the Worker answers.
		const res = await fetch(`${this.url}/healthz`);
		if (!res.ok) throw new Error(`healthz answered ${res.status}`);
	}

	private onLine(raw: string): void {
		// wrangler boxes warn/error lines in ANSI colour even with NO_COLOR set.
		// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes on purpose
		const line = raw.replace(/\u001b\[[0-9;]*m/g, "");
		const start = line.indexOf("{");
		if (start === -1) return;
		try {
			const value: unknown = JSON.parse(line.slice(start));
			if (typeof value === "object" && value !== null && typeof (value as LogLine).event === "string") {
				const entry = value as LogLine;
				this.logs.push(entry);
				this.logWaiters = this.logWaiters.filter((w) => {
					if (!w.pred(entry)) return true;
					w.resolve(entry);
					return false;
				});
			}
		} catch {
			// Not a JSON log line.
		}
	}

	/** Resolves with the first log line (already seen or future) matching `pred`. */
	waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 30_000, what = "log line"): Promise<LogLine> {
		const seen = this.logs.find(pred);
		if (seen) return Promise.resolve(seen);
		return new Promise((res, rej) => {
			const timer = setTimeout(() => {
				this.logWaiters = this.logWaiters.filter((w) => w.resolve !== done);
				rej(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last logs: ${JSON.stringify(this.logs.slice(-10))}`));
			}, timeoutMs);
			const done = (l: LogLine) => {
				clearTimeout(timer);
				res(l);
			};
			this.logWaiters.push({ pred, resolve: done });
		});
	}

	/** SIGKILL the process group: no close frames, no graceful shutdown. */
	async kill(): Promise<void> {
		const child = this.child;
		if (!child || child.exitCode !== null || child.pid === undefined) return;
		try {
			process.kill(-child.pid, "SIGKILL");
		} catch {
			child.kill("SIGKILL");
		}
		await this.exited;
		this.child = null;
	}

	/** Starts again on the same port and persisted storage. */
	async restart(): Promise<void> {
		await this.kill();
		await this.launch();
	}

	/** Stops the process and removes a temp persist dir this server created. */
	async stop(): Promise<void> {
		await this.kill();
		if (this.ownsPersistDir) rmSync(this.persistDir, { recursive: true, force: true });
	}

	/** An admin API call. */
	async admin(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
		const res = await fetch(`${this.url}${path}`, {
			method,
			headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "Content-Type": "application/json" },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		return { status: res.status, body: await res.json() };
	}
}
