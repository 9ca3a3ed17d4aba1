import { afterAll, beforeAll, describe, it } from "vitest";
import { CloseCode } from "../../protocol/close-codes.ts";
import type { AuthOkFrame, MessageFrame } from "../../protocol/messages.ts";
import { CLOCK_LEEWAY_SECONDS } from "../../src/core/auth/claims.ts";
import { mintToken, TestClient, uniqueRoom } from "./harness/client.ts";
import { failOnReload, keepAlive, roomStats } from "./harness/liveness.ts";
import { SilentSocket } from "./harness/raw-socket.ts";
import { DevServer } from "./harness/server.ts";

const INTERVAL_MS = 1000;
const TIMEOUT_MS = 3000;
/** Process scheduling slack on top of the contract's bound (workerd alarm timers, loopback, vitest). */
const SCHEDULING_MARGIN_MS = 1500;
/** A silent socket must be closed after the timeout and before the next liveness check after it. */
const MAX_SILENCE_CLOSE_MS = TIMEOUT_MS + INTERVAL_MS + SCHEDULING_MARGIN_MS;
/** How long a pinging client must outlive the timeout (the thing under test is elapsed time). */
const STAY_CONNECTED_MS = 4 * TIMEOUT_MS;

function delay(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}

/** A token's `exp` claim (seconds), read from the token itself. */
function tokenExp(token: string): number {
	return (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { exp: number }).exp;
}

/** When the room stops honouring a token: exp + the clock leeway, on the shared clock (ms). */
function tokenDeadline(token: string): number {
	return (tokenExp(token) + CLOCK_LEEWAY_SECONDS) * 1000;
}

describe.concurrent("liveness: the room's alarm closes silent and expired connections", () => {
	let server: DevServer;
	beforeAll(async () => {
		server = await DevServer.start({ vars: { HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS), HEARTBEAT_TIMEOUT_MS: String(TIMEOUT_MS) } });
	});
	afterAll(async () => {
		await server?.stop();
	});
	failOnReload(() => server);

	it("closes a client that sends nothing with 4008 after the timeout and within timeout + interval", async ({ expect }) => {
		const room = uniqueRoom("silent");
		const token = await mintToken("quiet", [room]);
		const started = performance.now();
		const silent = await SilentSocket.open(server.port, room, token, "quiet");
		expect(silent.frames[0]).toMatchObject({ type: "welcome", heartbeat: { interval: INTERVAL_MS, timeout: TIMEOUT_MS } });

		const close = await silent.waitCloseFrame(MAX_SILENCE_CLOSE_MS + 2000);
		expect(close.code).toBe(CloseCode.HeartbeatTimeout);
		expect(JSON.parse(close.reason)).toEqual({ code: "heartbeat_timeout" });
		// Lower bound on the client's clock, from before the upgrade was even sent (the room's
		// silence clock starts later, so this can only over-estimate the silence).
		const sinceConnectStart = Math.round(close.at - started);
		// Upper bound on the room's clock: from its `connect` line to its `close` line.
		const connected = await server.waitForLog((l) => l.event === "connect" && l.room === room, 5000, "the connect line");
		const closed = await server.waitForLog((l) => l.event === "close" && l.room === room, 5000, "the close line");
		const serverSilence = Number(closed.ts) - Number(connected.ts);
		console.info(`4008 latency: ${serverSilence} ms on the room's clock (${sinceConnectStart} ms from the client's connect start)`);
		expect(sinceConnectStart).toBeGreaterThanOrEqual(TIMEOUT_MS);
		expect(serverSilence).toBeLessThanOrEqual(MAX_SILENCE_CLOSE_MS);
		expect(silent.frames.map((f) => f.type)).toEqual(["welcome"]);
		// Counted, and the room left with no sockets has no alarm pending.
		expect(await roomStats(server, room)).toMatchObject({ connections: 0, heartbeatTimeouts: 1, closes: { [CloseCode.HeartbeatTimeout]: 1 }, alarm: null });
		silent.destroy();
	});

	it("keeps a client that sends `ping` every second connected for four timeouts, with no heartbeat closes", async ({ expect }) => {
		const room = uniqueRoom("pinger");
		const { client } = await TestClient.connect(server.wsUrl, room, await mintToken("pinger", [room]), {}, "pinger");
		const before = await roomStats(server, room);
		const stop = keepAlive(client, 1000);
		try {
			// Elapsed time is what is under test: the socket must still be open after it.
			await delay(STAY_CONNECTED_MS);
			expect(client.closeInfo, "the pinging client was closed").toBeNull();
			expect(client.ws.readyState).toBe(client.ws.OPEN);
		} finally {
			stop();
		}
		const pongs = client.texts.filter((t) => t === "pong").length;
		expect(pongs).toBeGreaterThanOrEqual(STAY_CONNECTED_MS / 1000 - 2);
		const after = await roomStats(server, room);
		console.info(`pinging client: ${pongs} pongs, ${after.alarmRuns - before.alarmRuns} alarm runs in ${STAY_CONNECTED_MS} ms`);
		expect(after).toMatchObject({ connections: 1, heartbeatTimeouts: 0 });
		expect(after.closes).not.toHaveProperty(String(CloseCode.HeartbeatTimeout));
		// Pings are auto-answered, so the room ran its alarm but never handled a frame.
		expect(client.frames.map((f) => f.type)).toEqual(["welcome"]);
		await client.close();
	});

	it("counts heartbeat timeouts and 4008 closes in stats, leaving the pinging client alone", async ({ expect }) => {
		const room = uniqueRoom("hbstats");
		const silent: SilentSocket[] = [];
		for (const sub of ["s1", "s2", "s3"]) silent.push(await SilentSocket.open(server.port, room, await mintToken(sub, [room]), sub));
		const { client: alive } = await TestClient.connect(server.wsUrl, room, await mintToken("alive", [room]), {}, "alive");
		const stop = keepAlive(alive, 1000);
		try {
			const closes = await Promise.all(silent.map((c) => c.waitCloseFrame(MAX_SILENCE_CLOSE_MS + 2000)));
			expect(closes.map((c) => c.code)).toEqual([CloseCode.HeartbeatTimeout, CloseCode.HeartbeatTimeout, CloseCode.HeartbeatTimeout]);
			// Each within the bound, on the room's clock: later sockets are closed by re-armed runs.
			for (const c of silent) {
				const session = c.frames[0]?.type === "welcome" ? c.frames[0].session : "";
				const at = async (event: string) =>
					Number((await server.waitForLog((l) => l.event === event && l.session === session, 5000, `${event} ${c.label}`)).ts);
				expect((await at("close")) - (await at("connect")), `${c.label}'s silence before its close`).toBeLessThanOrEqual(MAX_SILENCE_CLOSE_MS);
			}
			const stats = await roomStats(server, room);
			expect(stats).toMatchObject({ connections: 1, heartbeatTimeouts: 3, closes: { [CloseCode.HeartbeatTimeout]: 3 } });
			expect(alive.closeInfo).toBeNull();
			const logged = server.logs.filter((l) => l.event === "close" && l.room === room && l.code === CloseCode.HeartbeatTimeout);
			expect(logged).toHaveLength(3);
		} finally {
			stop();
			for (const c of silent) c.destroy();
		}
		await alive.close();
	});

	it("closes a connection whose token expires with 4001, once the 5 s leeway has passed", async ({ expect }) => {
		const room = uniqueRoom("expiry");
		const ttl = 4;
		const token = await mintToken("short", [room], { ttl });
		const { client } = await TestClient.connect(server.wsUrl, room, token, {}, "short");
		const deadline = tokenDeadline(token);
		const stop = keepAlive(client, 1000);
		try {
			const close = await client.waitClosed(deadline - Date.now() + INTERVAL_MS + SCHEDULING_MARGIN_MS + 2000);
			const closedAtWall = Date.now();
			expect(close.code).toBe(CloseCode.Unauthorized);
			expect(JSON.parse(close.reason)).toEqual({ code: "unauthorized" });
			console.info(`4001 latency: ${closedAtWall - deadline} ms after exp + leeway`);
			expect(closedAtWall).toBeGreaterThanOrEqual(deadline);
			expect(closedAtWall - deadline).toBeLessThanOrEqual(INTERVAL_MS + SCHEDULING_MARGIN_MS);
		} finally {
			stop();
		}
		const stats = await roomStats(server, room);
		expect(stats).toMatchObject({ connections: 0, heartbeatTimeouts: 0, closes: { [CloseCode.Unauthorized]: 1 }, alarm: null });
	});

	it("keeps a connection that refreshes its token in-band open past the old token's expiry", async ({ expect }) => {
		const room = uniqueRoom("refresh");
		const old = await mintToken("renew", [room], { ttl: 4 });
		// Two tabs of the same sub on the same short token: only one refreshes.
		const { client: stale } = await TestClient.connect(server.wsUrl, room, old, {}, "stale");
		const { client: fresh } = await TestClient.connect(server.wsUrl, room, old, {}, "fresh");
		const stops = [keepAlive(stale, 1000), keepAlive(fresh, 1000)];
		try {
			const newToken = await mintToken("renew", [room], { ttl: 120 });
			const since = fresh.frames.length;
			fresh.send({ type: "auth", token: newToken });
			const ok = await fresh.next((f): f is AuthOkFrame => f.type === "auth_ok", 5000, "auth_ok", since);
			expect(ok).toEqual({ type: "auth_ok", exp: tokenExp(newToken) });

			// The tab that did not refresh is closed at the old expiry; the same alarm run kept the other.
			const close = await stale.waitClosed(20_000);
			expect(close.code).toBe(CloseCode.Unauthorized);
			expect(Date.now()).toBeGreaterThanOrEqual(tokenDeadline(old));
			expect(fresh.closeInfo).toBeNull();
			const ack = await fresh.publish("after-expiry", "still here");
			expect(ack).toMatchObject({ type: "ack", dup: false });
			const msg = await fresh.next((f): f is MessageFrame => f.type === "message" && f.id === "after-expiry", 5000, "own message");
			expect(msg.from).toBe("renew");
			expect((await roomStats(server, room)).closes).toEqual({ [CloseCode.Unauthorized]: 1 });
		} finally {
			for (const stop of stops) stop();
		}
		await fresh.close();
	});

	it("refuses an in-band refresh with another sub's token and keeps the connection's identity", async ({ expect }) => {
		const room = uniqueRoom("imposter");
		const { client } = await TestClient.connect(server.wsUrl, room, await mintToken("zed", [room]), {}, "zed");
		const stop = keepAlive(client, 1000);
		try {
			for (const token of [await mintToken("mallory", [room]), await mintToken("zed", [room], { ttl: -30 }), "not.a.jwt"]) {
				const since = client.frames.length;
				client.send({ type: "auth", token });
				const answer = await client.next((f) => f.type === "error" || f.type === "auth_ok", 5000, "refresh answer", since);
				expect(answer).toMatchObject({ type: "error", code: "unauthorized" });
			}
			expect(await client.publish("who-am-i", 1)).toMatchObject({ type: "ack", dup: false });
			const msg = await client.next((f): f is MessageFrame => f.type === "message" && f.id === "who-am-i", 5000, "own message");
			expect(msg.from).toBe("zed");
			expect(client.closeInfo).toBeNull();
		} finally {
			stop();
		}
		await client.close();
	});
});
