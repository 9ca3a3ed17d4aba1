/**
 * `npm run bench:migration [-- --quick]` — the routing overhead of the anchor lookup (issue 5):
 * `GET /v1/rooms/:room` latency with the gateway's route cache cold (anchor RPC + room RPC) and
 * warm (room RPC only). One real `wrangler dev` on loopback; every loop bounded in count and time.
 * Writes bench/results/migration-<timestamp>.json and migration-latest.json. The migration
 * downtime itself is a workload of `npm run bench` (bench/workloads/migration.ts), in its table.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROUTE_CACHE_TTL_MS } from "../src/core/route-cache-ttl.ts";
import { mintToken } from "../test/e2e/harness/client.ts";
import { DevServer } from "../test/e2e/harness/server.ts";

const quick = process.argv.includes("--quick");
const ROUTE_ROOMS = quick ? 30 : 100;

function percentile(values: number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function routeOverhead(server: DevServer): Promise<Record<string, number>> {
	const rooms = Array.from({ length: ROUTE_ROOMS }, (_, i) => `bench-route-${Date.now().toString(36)}-${i}`);
	const token = await mintToken("bench", ["bench-route-*"]);
	const get = async (room: string) => {
		const t = performance.now();
		const res = await fetch(`${server.url}/v1/rooms/${room}`, { headers: { Authorization: `Bearer ${token}` } });
		await res.arrayBuffer();
		return performance.now() - t;
	};
	for (const room of rooms) await get(room); // create anchors and rooms
	// Let every cached route expire: the next request per room asks the anchor again.
	await new Promise((r) => setTimeout(r, ROUTE_CACHE_TTL_MS + 500));
	const cold: number[] = [];
	for (const room of rooms) cold.push(await get(room));
	const warm: number[] = [];
	for (const room of rooms) warm.push(await get(room));
	return {
		rooms: ROUTE_ROOMS,
		uncachedP50Ms: percentile(cold, 50),
		uncachedP99Ms: percentile(cold, 99),
		cachedP50Ms: percentile(warm, 50),
		cachedP99Ms: percentile(warm, 99),
		anchorLookupP50Ms: percentile(cold, 50) - percentile(warm, 50),
	};
}

const started = Date.now();
const server = await DevServer.start({ vars: { RATE_LIMIT_PER_SEC: "100000", RATE_LIMIT_BURST: "100000", MAX_CONNECTIONS_PER_ROOM: "10000" } });
try {
	const routing = await routeOverhead(server);
	console.log("anchor routing overhead (GET /v1/rooms/:room)");
	console.table(routing);
	const results = { startedAt: new Date(started).toISOString(), mode: quick ? "quick" : "full", routing };
	const dir = join(import.meta.dirname, "results");
	mkdirSync(dir, { recursive: true });
	const file = join(dir, `migration-${results.startedAt.replace(/[:.]/g, "-")}.json`);
	for (const path of [file, join(dir, "migration-latest.json")]) writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
	console.log(`written ${file}`);
	await server.stop();
} catch (err) {
	console.error(err);
	await server.stop();
	process.exit(1);
}
