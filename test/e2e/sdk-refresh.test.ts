/**
 * In-band token refresh (CONTRACT.md §11) against a real `wrangler dev`, whose room closes a
 * connection with 4001 the moment its token expires: a token function handing out 20 s tokens
 * keeps one connection alive well past several expiries (no 4001, no reconnect); a refresh the
 * room refuses (another sub's token) falls back to the 4001 path — a fresh token and a resume.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { CloseCode, connect, type LogFn, type Room } from "../../client/index.ts";
import { mintToken, uniqueRoom } from "./harness/client.ts";
import { nextEvent, recordEvents } from "./harness/sdk.ts";
import { DevServer } from "./harness/server.ts";

const TOKEN_TTL_S = 20;

/** Counts SDK log lines by message, resolving waits for the n-th one. */
function logCounter(): { onLog: LogFn; nth(message: string, n: number, timeoutMs: number): Promise<void> } {
	const counts = new Map<string, number>();
	const waiters: { message: string; n: number; resolve(): void }[] = [];
	return {
		onLog: (_level, message) => {
			const count = (counts.get(message) ?? 0) + 1;
			counts.set(message, count);
			for (const w of waiters.filter((w) => w.message === message && w.n <= count)) w.resolve();
		},
		nth: (message, n, timeoutMs) =>
			new Promise((resolve, reject) => {
				if ((counts.get(message) ?? 0) >= n) return resolve();
				const timer = setTimeout(() => reject(new Error(`only ${counts.get(message) ?? 0} × "${message}" within ${timeoutMs} ms (wanted ${n})`)), timeoutMs);
				waiters.push({
					message,
					n,
					resolve: () => {
						clearTimeout(timer);
						resolve();
					},
				});
			}),
	};
}

describe("in-band token refresh against wrangler dev", () => {
	let server: DevServer;
	const rooms: Room[] = [];

	beforeAll(async () => {
		server = await DevServer.start();
	});
	afterAll(async () => {
		for (const room of rooms) room.close();
		await server?.stop();
	});

	it("refreshes a 20 s token in band three times on one connection: no 4001, no reconnect", async () => {
		const room = uniqueRoom("refresh");
		let calls = 0;
		const logs = logCounter();
		const sdk = connect({
			url: server.url,
			room,
			WebSocket,
			onLog: logs.onLog,
			token: () => {
				calls++;
				return mintToken("ria", [room], { ttl: TOKEN_TTL_S });
			},
		});
		rooms.push(sdk);
		const closes = recordEvents(sdk, "close");
		const welcomes = recordEvents(sdk, "welcome");
		const { session } = await sdk.ready;
		const started = Date.now();
		await logs.nth("token refreshed in band", 3, 60_000);
		// Past the first token's expiry and the next ones' too: only the refreshes kept it open.
		expect(Date.now() - started).toBeGreaterThan(TOKEN_TTL_S * 1000);
		expect(calls).toBe(4);
		expect(closes).toEqual([]);
		// The first welcome only: never reconnected.
		expect(welcomes).toHaveLength(1);
		expect(sdk.state).toBe("open");
		expect(server.logs.filter((l) => l.event === "disconnect" && l.session === session)).toEqual([]);
		const { seq } = await sdk.publish("still here");
		expect(seq).toBe(1);
	});

	it("a refresh the room refuses (another sub's token) is surfaced, and at expiry the 4001 brings a fresh token and a resume", async () => {
		const room = uniqueRoom("refresh-refused");
		let calls = 0;
		const sdk = connect({
			url: server.url,
			room,
			WebSocket,
			token: () => {
				calls++;
				// The second call, the first refresh, hands out a token of another sub.
				return mintToken(calls === 2 ? "mallory" : "rex", [room], { ttl: TOKEN_TTL_S });
			},
		});
		rooms.push(sdk);
		const { session } = await sdk.ready;
		const refused = await nextEvent(sdk, "error", (e) => e.code === "unauthorized", 30_000, "the refused refresh");
		expect(refused.message).toContain("refused the refreshed token");
		const closed = await nextEvent(sdk, "close", () => true, 40_000, "the 4001 at expiry");
		expect(closed).toMatchObject({ code: CloseCode.Unauthorized, willReconnect: true, opened: true });
		const welcome = await nextEvent(sdk, "welcome", () => true, 15_000, "the welcome after the 4001");
		expect(welcome).toMatchObject({ resumed: true, session });
		expect(calls).toBe(3);
	});
});
