#!/usr/bin/env node
// The [build] step of an example (examples/<name>/wrangler.toml: `node ../../scripts/build-example.mjs .`).
// An example imports `baton-rooms/server` and `baton-rooms/client` by package name, as a user's
// project does; inside this repo the name resolves to the repo's own package (Node, esbuild and
// TypeScript resolve a package's own name through its `exports`), that is to dist/. So:
// 1. build the package (`npm run build`) when dist/ is missing or older than a source file;
// 2. bundle `baton-rooms/client` for the example's page into <example>/public/baton-client.js
//    (rewritten only when it changes: a running `wrangler dev` would reload for nothing);
// 3. under `wrangler dev` (not CI), create <example>/.dev.vars from its .dev.vars.example.
// In a user's own project, `npm i baton-rooms` replaces step 1 and the example's README gives the
// one-line esbuild command for step 2.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const example = resolve(process.argv[2] ?? ".");
if (!existsSync(join(example, "wrangler.toml"))) throw new Error(`build-example: ${example} has no wrangler.toml`);

/** What the package build reads: a newer file here means dist/ is stale. */
const PACKAGE_SOURCES = ["client", "protocol", "server", "react", "durable-objects", "src/core", "src/gateway"];
const PACKAGE_FILES = ["package.json", "tsconfig.base.json", "tsconfig.build.client.json", "tsconfig.build.server.json"];
/** Written last by the build (the server half runs after the client half). */
const BUILT_MARKER = "dist/server/index.js";

function newestMtime(path) {
	const stat = statSync(path);
	if (!stat.isDirectory()) return stat.mtimeMs;
	let newest = 0;
	for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
	return newest;
}

function packageIsStale() {
	const marker = join(root, BUILT_MARKER);
	if (!existsSync(marker) || !existsSync(join(root, "dist/client/index.js"))) return true;
	const built = statSync(marker).mtimeMs;
	const sources = [...PACKAGE_SOURCES, ...PACKAGE_FILES].map((p) => join(root, p)).filter((p) => existsSync(p));
	return sources.some((p) => newestMtime(p) > built);
}

if (packageIsStale()) {
	console.log("build-example: building the baton-rooms package (npm run build)");
	execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
}

const sdk = await build({
	// Resolved from the example as a user's project resolves it: through package.json `exports`.
	entryPoints: ["baton-rooms/client"],
	absWorkingDir: example,
	bundle: true,
	write: false,
	format: "esm",
	target: "es2022",
	platform: "browser",
	logLevel: "warning",
});
const text = sdk.outputFiles[0]?.text;
if (text === undefined) throw new Error("build-example: esbuild produced no client bundle");
const out = join(example, "public/baton-client.js");
mkdirSync(dirname(out), { recursive: true });
if (!existsSync(out) || readFileSync(out, "utf8") !== text) writeFileSync(out, text);

// As the repo's own [build] does: plain `wrangler dev` on a fresh clone gets local dev secrets.
// Not under CI=true (the e2e harness runs wrangler so, and passes every var it relies on).
const devVars = join(example, ".dev.vars");
if (process.env.WRANGLER_COMMAND === "dev" && process.env.CI !== "true" && !existsSync(devVars) && existsSync(`${devVars}.example`)) {
	copyFileSync(`${devVars}.example`, devVars);
	console.log(`build-example: created ${devVars} from .dev.vars.example (local development only)`);
}
