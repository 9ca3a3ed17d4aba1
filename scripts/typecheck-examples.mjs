#!/usr/bin/env node
// Typechecks every example as a user's project would be: its [build] step first (the package in
// dist/, which `baton-rooms/*` resolves to here), then `wrangler types` in its directory (the
// Workers runtime and its Env, from its own wrangler.toml and .dev.vars.example) and `tsc` with
// its own tsconfig.json. Part of `npm test`.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (pkg, file) => join(root, "node_modules", pkg, file);
const examples = readdirSync(join(root, "examples"), { withFileTypes: true })
	.filter((entry) => entry.isDirectory() && existsSync(join(root, "examples", entry.name, "wrangler.toml")))
	.map((entry) => join(root, "examples", entry.name));

for (const dir of examples) {
	const run = (args) => execFileSync(process.execPath, args, { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
	run([join(root, "scripts/build-example.mjs"), dir]);
	run([bin("wrangler", "bin/wrangler.js"), "types", "--env-file", ".dev.vars.example"]);
	execFileSync(process.execPath, [bin("typescript", "bin/tsc"), "-p", join(dir, "tsconfig.json")], { cwd: dir, stdio: "inherit" });
	console.log(`typecheck: ${relative(root, dir)} ok`);
}
