#!/usr/bin/env node
// Bundles the client SDK for browsers into public/baton-client.js (served by the Worker's static
// assets, used by the demo page). Run by `npm run dev`, `npm test` and `npm run deploy`.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
	entryPoints: [join(root, "client/index.ts")],
	outfile: join(root, "public/baton-client.js"),
	bundle: true,
	format: "esm",
	target: "es2022",
	platform: "browser",
	sourcemap: false,
	logLevel: "warning",
});
