/**
 * The apps under examples/ as their users run them: `wrangler dev` inside the example's own
 * directory, on its own wrangler.toml, importing `baton-rooms/*` by package name (resolved to the
 * repo's build in dist/). {@link buildExample} runs the example's [build] step once up front, so
 * the package is built before wrangler starts (its own run of the step then finds dist/ fresh).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT, wranglerEnv } from "./process.ts";

const run = promisify(execFile);

/** A package build on a loaded 2-core machine takes ~35 s; give it room. */
export const EXAMPLE_BUILD_TIMEOUT_MS = 240_000;

export type ExampleName = "chat" | "poll";

export function exampleDir(name: ExampleName): string {
	return join(ROOT, "examples", name);
}

/** Builds the package if stale, and the example's page bundle; returns the example's directory. */
export async function buildExample(name: ExampleName): Promise<string> {
	const dir = exampleDir(name);
	try {
		await run(process.execPath, [join(ROOT, "scripts/build-example.mjs"), dir], { cwd: ROOT, env: wranglerEnv(), timeout: EXAMPLE_BUILD_TIMEOUT_MS });
	} catch (err) {
		const e = err as { stdout?: string; stderr?: string; message: string };
		throw new Error(`building examples/${name} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
	}
	return dir;
}
