/**
 * Browser connectivity events against a real `wrangler dev`, simulated in Node by dispatching
 * `online`/`offline` on an EventTarget passed as the `network` option: `online` ends a backoff
 * wait at once; `offline` probes the socket — one that answers is kept, one that does not is
 * replaced (closed with 4000, so the room keeps the presence grace) and the session resumes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { CloseCode, connect, type LogFn, NETWORK_PROBE_MS, type Room } from "../../client/index.ts";
import { mintToken, uniqueRoom } from "./harness/client.ts";
import { freezableSockets, nextEvent, recordEvents } from "./harness/sdk.ts";
import { DevServer } from "./harness/server.ts";

/** Resolves on the first SDK log line whose message is `message`. */
function logWaiter(): { onLog: LogFn; next(message: string, timeoutMs: number): Promise<void> } {
	const waiters: { message: string; resolve(): void }[] = [];
	return {
		onLog: (_level, message) => {
			for (const w of waiters.filter((w) => w.message === message)) w.resolve();
		},
		next: (message, timeoutMs) =>
			new Promise((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error(`no "${message}" log within ${timeoutMs} ms`)), timeoutMs);
				waiters.push({
					message,
					resolve: () => {
						clearTimeout(timer);
						resolve();
					},
				});
			}),
	};
}

describe("online/offline handling against wrangler dev", () => {
	let server: DevServer;
	const rooms: Room[] = [];

	beforeAll(async () => {
		server = await DevServer.start();
	});
	afterEach(() => {
		for (const room of rooms.splice(0)) room.close();
		vi.restoreAllMocks();
	});
	afterAll(async () => {
		await server?.stop();
	});

	it("`offline` on a working socket: the probe is answered and the socket is kept", async () => {
		const room = uniqueRoom("net-ok");
		const network = new EventTarget();
		const logs = logWaiter();
		const sdk = connect({ url: server.url, room, token: await mintToken("ann", [room]), WebSocket, network, onLog: logs.onLog });
		rooms.push(sdk);
		const { session } = await sdk.ready;
		const closes = recordEvents(sdk, "close");
		const answered = logs.next("network probe answered", NETWORK_PROBE_MS);
		network.dispatchEvent(new Event("offline"));
		await answered;
		expect(sdk.state).toBe("open");
		expect(closes).toEqual([]);
		expect(server.logs.filter((l) => l.event === "disconnect" && l.session === session)).toEqual([]);
	});

	it("`offline` on a socket that no longer answers: replaced with 4000 after the probe time, and the session resumes", async () => {
		const room = uniqueRoom("net-dead");
		const network = new EventTarget();
		const { WebSocket: Freezable, sockets } = freezableSockets();
		const sdk = connect({ url: server.url, room, token: await mintToken("bea", [room]), WebSocket: Freezable, network, backoff: { base: 100, cap: 500 } });
		rooms.push(sdk);
		const { session } = await sdk.ready;
		sockets[0]?.freezeIncoming();
		const closed = nextEvent(sdk, "close", () => true, NETWORK_PROBE_MS + 5_000, "the probe's close");
		const resumed = nextEvent(sdk, "welcome", (w) => w.resumed, 30_000, "a resumed welcome");
		const started = Date.now();
		network.dispatchEvent(new Event("offline"));
		expect(await closed).toEqual({ code: CloseCode.ClientReconnect, reason: "network_probe_failed", willReconnect: true, opened: true });
		expect(Date.now() - started).toBeGreaterThanOrEqual(NETWORK_PROBE_MS - 10);
		// The old socket's end as the room saw it: the SDK's 4000, or, when the new socket got there
		// before that close frame, the room's own 4011 replacing it. Never a goodbye (1000).
		const ended = await server.waitForLog(
			(l) => l.session === session && ((l.event === "disconnect" && l.code !== undefined) || (l.event === "close" && l.code === CloseCode.SessionReplaced)),
			15_000,
			"the end of the old socket in the room",
		);
		if (ended.event === "disconnect") expect(ended.code).toBe(CloseCode.ClientReconnect);
		expect((await resumed).session).toBe(session);
		expect(sockets).toHaveLength(2);
	});

	it("`online` during a long backoff wait dials at once", async () => {
		// Full jitter pinned near its top: without `online` the wait would be ~59 s.
		vi.spyOn(Math, "random").mockReturnValue(0.99);
		const room = uniqueRoom("net-online");
		const network = new EventTarget();
		const sdk = connect({ url: server.url, room, token: await mintToken("cid", [room]), WebSocket, network, backoff: { base: 60_000, cap: 60_000 } });
		rooms.push(sdk);
		const { session } = await sdk.ready;
		const lost = nextEvent(sdk, "close");
		await server.kill();
		await lost;
		await server.restart();
		const resumed = nextEvent(sdk, "welcome", (w) => w.resumed, 15_000, "the welcome after `online`");
		const started = Date.now();
		network.dispatchEvent(new Event("online"));
		expect((await resumed).session).toBe(session);
		expect(Date.now() - started).toBeLessThan(10_000);
	});
});
