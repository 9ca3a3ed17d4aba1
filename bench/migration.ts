/**
 * `npm run bench:migration [-- --quick]` — the multi-region figures (issue 5):
 *  1. migration downtime: a room of N clients (500 / quick 100) with a 1,000-message log moves
 *     region; downtime = first 4010 close frame → last client's `welcome` at the new home;
 *  2. routing overhead of the anchor lookup: `GET /v1/rooms/:room` latency with the gateway's
 *     route cache cold (anchor RPC + room RPC) and warm (room RPC only).
 * One real `wrangler dev` on loopback; every loop bounded in count and time. Writes
 * bench/results/migration-<timestamp>.json and migration-latest.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { ROUTE_CACHE_TTL_MS } from "../src/core/route-cache-ttl.ts";
import { mintToken, uniqueRoom } from "../test/e2e/harness/client.ts";
import { DevServer } from "../test/e2e/harness/server.ts";

const quick = process.argv.includes("--quick");
const CLIENTS = quick ? 100 : 500;
const LOG = 1000;
const ROUTE_ROOMS = quick ? 30 : 100;
const DEADLINE_MS = quick ? 90_000 : 240_000;

function percentile(values: number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	return Promise.race([
		promise.finally(() => clearTimeout(timer)),
		new Promise<never>((_, rej) => {
			timer = setTimeout(() => rej(new Error(`${what}: no result within ${ms} ms`)), ms);
		}),
	]);
}

interface Peer {
	movedAt: number | null;
	resumedAt: number | null;
}

/** A client that answers 4010 by resuming at once; it sends one `ping` so closes reach it promptly. */
function openPeer(server: DevServer, room: string, token: string, peer: Peer): Promise<void> {
	let resume = "";
	const dial = (after: number, resumeToken: string | null): Promise<void> =>
		new Promise((res, rej) => {
			const url = new URL(`${server.wsUrl}/v1/rooms/${room}/ws`);
			url.searchParams.set("after", String(after));
			if (resumeToken) url.searchParams.set("resume", resumeToken);
			const ws = new WebSocket(url, ["baton.v1", `baton.auth.${token}`]);
			let seq = after;
			ws.on("message", (raw) => {
				const text = raw.toString();
				if (text === "pong") return;
				const frame = JSON.parse(text) as { type: string; seq?: number; resume?: string; resumed?: boolean };
				if (frame.type === "welcome") {
					resume = frame.resume ?? "";
					seq = frame.seq ?? seq;
					if (peer.movedAt !== null) peer.resumedAt = Date.now();
					ws.send("ping");
					res();
				}
			});
			ws.on("close", (code) => {
				if (code === 4010 && peer.resumedAt === null) redial(seq, resume, 0);
			});
			// The close *frame* is the signal; `ws` has no event for it, so watch its receiver (set on open).
			ws.on("open", () => {
				(ws as unknown as { _receiver: { on(e: string, f: (code: number) => void): void } })._receiver.on("conclude", (code: number) => {
					if (code === 4010 && peer.movedAt === null) peer.movedAt = Date.now();
				});
			});
			ws.on("error", rej);
		});
	// A refused or reset dial during the move is retried a bounded number of times.
	const redial = (after: number, resumeToken: string, attempt: number): void => {
		dial(after, resumeToken).catch(() => {
			if (attempt < 20) setTimeout(() => redial(after, resumeToken, attempt + 1), 50);
		});
	};
	return dial(0, null);
}

async function migrationDowntime(server: DevServer): Promise<Record<string, number>> {
	const room = uniqueRoom("bench-migrate");
	const token = await mintToken("bench", [room]);
	// Fill the log through one socket (rate limit lifted for the bench).
	await new Promise<void>((res, rej) => {
		const ws = new WebSocket(`${server.wsUrl}/v1/rooms/${room}/ws`, ["baton.v1", `baton.auth.${token}`]);
		let acked = 0;
		ws.on("open", () => {
			for (let i = 0; i < LOG; i++) ws.send(JSON.stringify({ type: "publish", id: `fill-${i}`, data: { i, pad: "x".repeat(64) } }));
		});
		ws.on("message", (raw) => {
			if (raw.toString().includes('"type":"ack"') && ++acked === LOG) {
				ws.close(1000);
				res();
			}
		});
		ws.on("error", rej);
	});
	const peers: Peer[] = Array.from({ length: CLIENTS }, () => ({ movedAt: null, resumedAt: null }));
	// Opened one at a time: wrangler's local proxy resets bursts of concurrent upgrades.
	for (const [i, p] of peers.entries()) await openPeer(server, room, await mintToken(`u${i}`, [room]), p);
	const started = Date.now();
	const answer = await server.admin("POST", `/v1/admin/rooms/${room}/migrate`, { to: "weur" });
	const answered = Date.now() - started;
	await withDeadline(
		new Promise<void>((res) => {
			const check = setInterval(() => {
				if (peers.every((p) => p.resumedAt !== null)) {
					clearInterval(check);
					res();
				}
			}, 20);
		}),
		DEADLINE_MS,
		"every client resumed",
	);
	const firstMoved = Math.min(...peers.map((p) => p.movedAt ?? Number.POSITIVE_INFINITY));
	const lastResumed = Math.max(...peers.map((p) => p.resumedAt ?? 0));
	const perClient = peers.map((p) => (p.resumedAt ?? 0) - (p.movedAt ?? 0));
	return {
		clients: CLIENTS,
		log: LOG,
		moved: Number((answer.body as { moved?: number }).moved ?? -1),
		migrateRequestMs: answered,
		downtimeMs: lastResumed - firstMoved,
		perClientP50Ms: percentile(perClient, 50),
		perClientP99Ms: percentile(perClient, 99),
	};
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
	const migration = await migrationDowntime(server);
	const routing = await routeOverhead(server);
	console.log("migration downtime (first 4010 → last resumed welcome)");
	console.table(migration);
	console.log("anchor routing overhead (GET /v1/rooms/:room)");
	console.table(routing);
	const results = { startedAt: new Date(started).toISOString(), mode: quick ? "quick" : "full", clients: CLIENTS, log: LOG, migration, routing };
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
