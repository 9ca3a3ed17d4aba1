/**
 * The project at an earlier commit, for bench/compare.ts: a detached `git worktree` in
 * `.bench-ref/<commit>/` inside the repo (gitignored). Being inside the repo, its imports resolve
 * by walking up to the repo's own node_modules: nothing is linked or copied into it. Removed with
 * `git worktree remove --force` (also from an exit handler, synchronously).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./snapshot.ts";

/** Where reference worktrees live (in .gitignore). */
export const REF_BASE = join(ROOT, ".bench-ref");
const GIT_TIMEOUT_MS = 60_000;
const BUILD_TIMEOUT_MS = 120_000;

function git(argv: string[]): string {
	return execFileSync("git", argv, { cwd: ROOT, encoding: "utf8", timeout: GIT_TIMEOUT_MS, stdio: ["ignore", "pipe", "pipe"] }).trim();
}

export interface RefWorktree {
	/** The ref as given. */
	ref: string;
	/** Its commit, abbreviated (names the directory and the target). */
	commit: string;
	dir: string;
	/** The worktree's wrangler config. */
	config: string;
	/**
	 * Its protocol has `read` frames (CONTRACT.md §13). A room from before them answers one as an
	 * unknown frame type (`bad_message`, and 1008 after ten in a minute), so its clients send none.
	 */
	readFrames: boolean;
	/** Removes the worktree (idempotent, synchronous: safe in an exit handler). */
	remove(): void;
}

/** The abbreviated commit `ref` names, or null when it names none. */
export function resolveRef(ref: string): string | null {
	try {
		return git(["rev-parse", "--verify", "--quiet", "--short", `${ref}^{commit}`]) || null;
	} catch {
		return null;
	}
}

/**
 * Checks `ref` out into `.bench-ref/<commit>/` (a leftover worktree there is replaced) and builds
 * what its wrangler config does not build itself: the generated demo module of a tree whose
 * config has no `[build]` step (its `scripts/build-client.mjs`, run inside the worktree).
 */
export function addRefWorktree(ref: string): RefWorktree {
	const commit = resolveRef(ref);
	if (commit === null) throw new Error(`${ref} names no commit`);
	const dir = join(REF_BASE, commit);
	let removed = false;
	const remove = () => {
		if (removed) return;
		removed = true;
		spawnSync("git", ["worktree", "remove", "--force", dir], { cwd: ROOT, stdio: "ignore", timeout: GIT_TIMEOUT_MS });
		spawnSync("git", ["worktree", "prune"], { cwd: ROOT, stdio: "ignore", timeout: GIT_TIMEOUT_MS });
		try {
			if (existsSync(REF_BASE) && readdirSync(REF_BASE).length === 0) rmdirSync(REF_BASE);
		} catch {
			// Another run's worktree is still there.
		}
	};
	if (existsSync(dir)) {
		spawnSync("git", ["worktree", "remove", "--force", dir], { cwd: ROOT, stdio: "ignore", timeout: GIT_TIMEOUT_MS });
	}
	git(["worktree", "prune"]);
	git(["worktree", "add", "--detach", dir, commit]);
	try {
		const config = join(dir, "wrangler.toml");
		if (!existsSync(config)) throw new Error(`${ref} (${commit}) has no wrangler.toml`);
		const build = join(dir, "scripts/build-client.mjs");
		if (existsSync(build)) {
			const result = spawnSync(process.execPath, [build], { cwd: dir, encoding: "utf8", timeout: BUILD_TIMEOUT_MS });
			if (result.status !== 0)
				throw new Error(`${commit}: scripts/build-client.mjs failed: ${(result.stderr || result.stdout || String(result.error)).slice(-2000)}`);
		}
		const messages = join(dir, "protocol/messages.ts");
		const readFrames = existsSync(messages) && /\bRead:\s*"read"/.test(readFileSync(messages, "utf8"));
		return { ref, commit, dir, config, readFrames, remove };
	} catch (err) {
		remove();
		throw err;
	}
}
