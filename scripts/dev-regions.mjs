#!/usr/bin/env node
// `npm run dev:regions`: one rooms process (all Durable Objects, persisted under
// .wrangler/regions-state) and three regional gateways — wnam :8787, weur :8788, apac :8789 —
// bound to it through a project-local wrangler dev registry. Stopping one gateway (kill its pid,
// printed below) leaves the others serving every room.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gatewayArgs, REGION_PORTS, ROOMS_PORT, roomsArgs } from "./regions.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const devVarsPath = join(root, ".dev.vars");
if (!existsSync(devVarsPath)) copyFileSync(join(root, ".dev.vars.example"), devVarsPath);
await import("./build-client.mjs");
// .dev.vars is read per config directory by wrangler; pass its values explicitly instead.
const vars = Object.fromEntries(
	readFileSync(devVarsPath, "utf8")
		.split("\n")
		.filter((l) => /^[A-Z_]+=/.test(l) && !l.startsWith("BATON_REGION="))
		.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]),
);
const env = { ...process.env, WRANGLER_REGISTRY_PATH: join(root, ".wrangler/registry") };
const wrangler = join(root, "node_modules/wrangler/bin/wrangler.js");
const children = [];

function start(label, args) {
	const child = spawn(process.execPath, [wrangler, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
	const prefix = `[${label}] `;
	for (const stream of [child.stdout, child.stderr]) stream.on("data", (d) => process.stdout.write(d.toString().replace(/^(?=.)/gm, prefix)));
	child.on("exit", (code) => console.log(`${prefix}exited (${code}); the other processes keep serving`));
	console.log(`${prefix}pid ${child.pid}`);
	children.push(child);
}

start("rooms", roomsArgs(root, { port: ROOMS_PORT, inspectorPort: 9330, persistTo: join(root, ".wrangler/regions-state"), vars }));
let inspector = 9331;
for (const [region, port] of Object.entries(REGION_PORTS)) start(region, gatewayArgs(root, region, { port, inspectorPort: inspector++, vars }));

function stopAll() {
	for (const c of children) c.kill("SIGTERM");
	process.exit(0);
}
process.on("SIGINT", stopAll);
process.on("SIGTERM", stopAll);
