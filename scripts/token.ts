/**
 * Mints a local dev access token:
 *   npm run token -- --sub alice --rooms 'lobby,team-*' [--name Alice] [--ttl 3600]
 * The secret comes from BATON_JWT_SECRET, else .dev.vars, else .dev.vars.example.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { signAccessToken } from "../src/core/auth/sign.ts";

function devSecret(): string {
	if (process.env.BATON_JWT_SECRET) return process.env.BATON_JWT_SECRET;
	for (const file of [".dev.vars", ".dev.vars.example"]) {
		if (!existsSync(file)) continue;
		const line = readFileSync(file, "utf8")
			.split("\n")
			.find((l) => l.startsWith("BATON_JWT_SECRET="));
		if (line) return line.slice("BATON_JWT_SECRET=".length).trim();
	}
	throw new Error("no BATON_JWT_SECRET in the environment, .dev.vars or .dev.vars.example");
}

const { values } = parseArgs({
	options: { sub: { type: "string" }, rooms: { type: "string", default: "*" }, name: { type: "string" }, ttl: { type: "string", default: "3600" } },
});
if (!values.sub) {
	console.error("usage: npm run token -- --sub alice --rooms 'lobby,team-*' [--name Alice] [--ttl seconds]");
	process.exit(2);
}
const now = Math.floor(Date.now() / 1000);
const claims: Record<string, unknown> = { sub: values.sub, exp: now + Number(values.ttl), rooms: values.rooms.split(",").map((r) => r.trim()) };
if (values.name) claims.name = values.name;
console.log(await signAccessToken(claims, devSecret()));
