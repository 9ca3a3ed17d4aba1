/**
 * Starts a real `wrangler dev` process on a free loopback port with persisted storage, for
 * end-to-end tests. `kill()` is SIGKILL to the whole process group (the local stand-in for a
 * runtime reset: clients see 1006); `restart()` starts again on the same port and storage.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, isAddressInUse, type LogLine, ROOT, WranglerProcess, wranglerEnv } from "./process.ts";

/** Starts tried on fresh ports when a picked port was taken meanwhile. */
const PORT_ATTEMPTS = 3;

export { freePort, type LogLine } from "./process.ts";

export const TEST_SECRET = "e2e-secret-0123456789abcdef0123456789abcdef";
export const TEST_ADMIN_TOKEN = "e2e-admin-token";

export interface ServerOptions {
	/** Extra Worker vars (`--var NAME:VALUE`), e.g. short heartbeat settings. */
	vars?: Record<string, string>;
	/** Persist directory to share with another process or a previous run; a temp dir by default. */
	persistDir?: string;
	/** wrangler config file (default: the project's wrangler.toml). */
	config?: string;
	/** Port to bind (default: a free one). */
	port?: number;
	/**
	 * An app directory of its own (an example: its wrangler.toml, its [build] step) that wrangler
	 * runs in, instead of the project root. Build it first with {@link buildExample}.
	 */
	app?: string;
}

export class DevServer {
	private readonly wrangler: WranglerProcess;

	private constructor(
		readonly port: number,
		readonly persistDir: string,
		private readonly vars: Record<string, string>,
		private readonly config: string,
		private readonly ownsPersistDir: boolean,
		cwd: string,
	) {
		this.wrangler = new WranglerProcess(`wrangler dev :${port}`, port, wranglerEnv(), Number.POSITIVE_INFINITY, cwd);
	}

	static async start(opts: ServerOptions = {}): Promise<DevServer> {
		const ownsPersistDir = opts.persistDir === undefined;
		const persistDir = opts.persistDir ?? mkdtempSync(join(tmpdir(), "baton-e2e-"));
		const vars = { BATON_JWT_SECRET: TEST_SECRET, BATON_ADMIN_TOKEN: TEST_ADMIN_TOKEN, BATON_REGION: "wnam", ...opts.vars };
		const cwd = opts.app ?? ROOT;
		// Ports are picked free and bound later by wrangler: another process may take one in between
		// (seen in CI with many servers starting at once). Then the start is tried on fresh ports.
		for (let attempt = 1; ; attempt++) {
			const port = opts.port ?? (await freePort());
			const server = new DevServer(port, persistDir, vars, opts.config ?? join(cwd, "wrangler.toml"), ownsPersistDir, cwd);
			try {
				await server.launch();
				return server;
			} catch (err) {
				if (opts.port !== undefined || attempt >= PORT_ATTEMPTS || !isAddressInUse(err)) throw err;
				console.warn(`wrangler dev :${port}: a port was taken before wrangler bound it; starting again on fresh ports`);
			}
		}
	}

	get url(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	get wsUrl(): string {
		return `ws://127.0.0.1:${this.port}`;
	}

	/** The wrangler process id (its workerd children: bench/lib/procfs.ts `findUserWorkerd`). */
	get pid(): number | undefined {
		return this.wrangler.pid;
	}

	/** Structured JSON log lines printed by the Worker and the room, in order (across restarts). */
	get logs(): LogLine[] {
		return this.wrangler.logs;
	}

	/** Raw output, kept for diagnostics (across restarts). */
	get output(): string {
		return this.wrangler.output;
	}

	private async launch(): Promise<void> {
		const args = [
			"dev",
			"--config",
			this.config,
			"--ip",
			"127.0.0.1",
			"--port",
			String(this.port),
			"--inspector-port",
			String(await freePort()),
			"--persist-to",
			this.persistDir,
			"--show-interactive-dev-session=false",
		];
		for (const [k, v] of Object.entries(this.vars)) args.push("--var", `${k}:${v}`);
		await this.wrangler.launch(args);
	}

	/** Resolves with the first log line (already seen or future) matching `pred`. */
	waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 30_000, what = "log line"): Promise<LogLine> {
		return this.wrangler.waitForLog(pred, timeoutMs, what);
	}

	/** SIGKILL the process group: no close frames, no graceful shutdown. */
	async kill(): Promise<void> {
		await this.wrangler.kill();
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
