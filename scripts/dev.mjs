#!/usr/bin/env node
// Runs baton locally on 127.0.0.1:8787 (or `--port N` / PORT=N): creates .dev.vars from
// .dev.vars.example when missing, then starts `wrangler dev` with persisted local storage. Other
// arguments go to wrangler as they are; wrangler's [build] step builds the demo files.
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

/** Takes `--name value` / `--name=value` out of `args`; returns the value (last one wins). */
function takeOption(args, name) {
	let value;
	for (let i = 0; i < args.length; ) {
		const arg = args[i];
		if (arg === name && i + 1 < args.length) {
			value = args[i + 1];
			args.splice(i, 2);
		} else if (arg.startsWith(`${name}=`)) {
			value = arg.slice(name.length + 1);
			args.splice(i, 1);
		} else i++;
	}
	return value;
}

const passthrough = process.argv.slice(2);
const port = takeOption(passthrough, "--port") ?? process.env.PORT ?? "8787";
const ip = takeOption(passthrough, "--ip") ?? "127.0.0.1";
const persistTo = takeOption(passthrough, "--persist-to") ?? ".wrangler/state";
const args = ["wrangler", "dev", "--ip", ip, "--port", port, "--persist-to", persistTo, ...passthrough];
const child = spawn("npx", args, { cwd: root, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
