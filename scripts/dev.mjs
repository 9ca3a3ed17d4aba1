#!/usr/bin/env node
// Runs baton locally on 127.0.0.1:8787: creates .dev.vars from .dev.vars.example when missing,
// then starts `wrangler dev` with persisted local storage. Extra arguments go to wrangler.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const devVars = join(root, ".dev.vars");
if (!existsSync(devVars)) {
	copyFileSync(join(root, ".dev.vars.example"), devVars);
	console.log("created .dev.vars from .dev.vars.example");
}
await import("./build-client.mjs");
const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--port", "8787", "--persist-to", ".wrangler/state", ...process.argv.slice(2)];
const child = spawn("npx", args, { cwd: root, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
