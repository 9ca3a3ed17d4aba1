/**
 * Frozen copies of a Worker for the bench. wrangler dev watches a Worker's sources and config and
 * reloads on change, restarting workerd; the project may be edited while the bench runs, so each
 * target is bundled once (`wrangler deploy --dry-run --outdir`) into a private directory and
 * served from there. Local secrets files (.dev.vars) are not copied: the bench passes its vars.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const BUNDLE_TIMEOUT_MS = 120_000;

export const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" };

/** Runs wrangler to completion (bounded), returning its output; rejects on a non-zero exit. */
function runWrangler(args: string[], timeoutMs: number): Promise<string> {
	return new Promise((res, rej) => {
		const child = spawn(process.execPath, [WRANGLER, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: wranglerEnv });
		let out = "";
		child.stdout.on("data", (c: Buffer) => {
			out += c.toString();
		});
		child.stderr.on("data", (c: Buffer) => {
			out += c.toString();
		});
		const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
		child.once("exit", (code) => {
			clearTimeout(timer);
			if (code === 0) res(out);
			else rej(new Error(`wrangler ${args.join(" ")} exited with ${code}:\n${out.slice(-2000)}`));
		});
	});
}

/**
 * A private, frozen copy of a Worker: its bundle (`wrangler deploy --dry-run --outdir`) plus its
 * config with `main` pointing at the bundle, and a copy of every file or directory the config
 * names by a relative path. Returns the copied config's path.
 */
async function snapshot(config: string, dir: string): Promise<string> {
	const bundleDir = join(dir, "bundle");
	// The dry run leaves a `.wrangler/tmp` beside the config: remove it unless it was there before.
	const scratch = join(dirname(config), ".wrangler");
	const hadScratch = existsSync(scratch);
	try {
		await runWrangler(["deploy", "--dry-run", "--outdir", bundleDir, "--config", config], BUNDLE_TIMEOUT_MS);
	} finally {
		if (!hadScratch) rmSync(scratch, { recursive: true, force: true });
	}
	const entry = readdirSync(bundleDir).find((f) => f.endsWith(".js"));
	if (entry === undefined) throw new Error(`${config}: the dry-run bundle has no .js entry`);
	const text = readFileSync(config, "utf8");
	const mainLine = /^main\s*=\s*"[^"]*"\s*$/m;
	if (!mainLine.test(text)) throw new Error(`${config}: expected a TOML \`main = "…"\` line`);
	const from = dirname(config);
	for (const match of text.replace(mainLine, "").matchAll(/=\s*"(\.{0,1}\/?[\w.\-/]+)"/g)) {
		const rel = match[1] ?? "";
		if (rel.startsWith("/") || rel.includes("..") || !existsSync(join(from, rel)) || rel.replace(/^\.\//, "") === "") continue;
		cpSync(join(from, rel), join(dir, rel), { recursive: true });
	}
	const out = join(dir, "wrangler.toml");
	// The bundle holds what a `[build]` step generates: the copy must not run it again (its
	// command names files of the project that the copy does not have).
	const frozen = text.replace(mainLine, `main = "bundle/${entry}"`).replace(/^\[build\]\n[\s\S]*?(?=^\[)/m, "");
	writeFileSync(out, frozen);
	return out;
}

/** One frozen copy per config, shared by every process started from it (bundling is slow). */
const snapshots = new Map<string, { dir: string; config: Promise<string> }>();

export function snapshotOnce(config: string, base: string): Promise<string> {
	let entry = snapshots.get(config);
	if (entry === undefined) {
		const dir = mkdtempSync(join(base, "baton-bench-snapshot-"));
		entry = { dir, config: snapshot(config, dir) };
		snapshots.set(config, entry);
	}
	return entry.config;
}

/** Removes the frozen copies (call after every process started from them has stopped). */
export function removeSnapshots(): void {
	for (const { dir } of snapshots.values()) rmSync(dir, { recursive: true, force: true });
	snapshots.clear();
}
