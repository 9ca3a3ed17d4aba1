import { afterAll, beforeAll, describe, it } from "vitest";
import { MessageType } from "../../protocol/messages.ts";
import { mintToken, TestClient, uniqueRoom } from "./harness/client.ts";
import { failOnReload, keepAlive, roomStats, roomWakes } from "./harness/liveness.ts";
import { DevServer } from "./harness/server.ts";

const CLIENTS = 5;
const INTERVAL_MS = 1000;
const TIMEOUT_MS = 3000;
/** How long the clients only ping. Past local workerd's ~10 s hibernation idle timeout. */
const IDLE_MS = 15_000;

function delay(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}

/** Connects `CLIENTS` clients to `room`, each pinging every second. */
async function pingingRoom(server: DevServer, room: string): Promise<{ clients: TestClient[]; sessions: string[]; stop: () => void }> {
	const clients: TestClient[] = [];
	const sessions: string[] = [];
	for (let i = 0; i < CLIENTS; i++) {
		const { client, welcome } = await TestClient.connect(server.wsUrl, room, await mintToken(`idler-${i}`, [room]), {}, `idler-${i}`);
		clients.push(client);
		sessions.push(welcome.session);
	}
	// A later idler's `join` can reach an earlier one after that later welcome: wait for every
	// join, so that what the clients hold now is all the room will send them before the idle.
	const joins: Promise<unknown>[] = [];
	for (const [i, client] of clients.entries()) {
		for (let later = i + 1; later < CLIENTS; later++) {
			const sub = `idler-${later}`;
			joins.push(client.next((f) => f.type === MessageType.Presence && f.event === "join" && f.sub === sub, 10_000, `join of ${sub}`));
		}
	}
	await Promise.all(joins);
	const stops = clients.map((c) => keepAlive(c, 1000));
	const stop = () => {
		for (const s of stops) s();
	};
	return { clients, sessions, stop };
}

/** Closes every client and waits for the room to log each disconnect. */
async function leaveAll(server: DevServer, room: string, clients: TestClient[], sessions: string[]): Promise<void> {
	await Promise.all(clients.map((c) => c.close()));
	await Promise.all(
		sessions.map((session) =>
			server.waitForLog((l) => l.event === "disconnect" && l.room === room && l.session === session, 10_000, `disconnect of ${session}`),
		),
	);
}

describe.concurrent("idle cost: pings are answered without waking the room", () => {
	let fast: DevServer;
	let slow: DevServer;
	beforeAll(async () => {
		[fast, slow] = await Promise.all([
			DevServer.start({ vars: { HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS), HEARTBEAT_TIMEOUT_MS: String(TIMEOUT_MS) } }),
			// A timeout longer than the test: no alarm falls due, so the room can hibernate.
			DevServer.start({ vars: { HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS), HEARTBEAT_TIMEOUT_MS: "120000" } }),
		]);
	});
	afterAll(async () => {
		await Promise.all([fast?.stop(), slow?.stop()]);
	});
	failOnReload(() => fast);
	failOnReload(() => slow);

	it("wakes a room of pinging clients only for its liveness alarm, at most once per timeout", async ({ expect }) => {
		const room = uniqueRoom("idlecost");
		const { clients, sessions, stop } = await pingingRoom(fast, room);
		const framesBefore = clients.map((c) => c.frames.length);
		const before = await roomStats(fast, room);
		const wakesBefore = roomWakes(fast, room).length;
		const start = performance.now();
		try {
			// Elapsed time is what is under test: what the room costs while clients only ping.
			await delay(IDLE_MS);
		} finally {
			stop();
		}
		const wakesDuring = roomWakes(fast, room).length - wakesBefore;
		const after = await roomStats(fast, room);
		const elapsed = performance.now() - start;
		const alarmRuns = after.alarmRuns - before.alarmRuns;
		const wakeups = after.wakeups - before.wakeups;
		console.info(`idle cost: ${alarmRuns} alarm runs, ${wakeups} wakeups (${wakesDuring} before the final stats call) in ${Math.round(elapsed)} ms`);

		expect(after.connections).toBe(CLIENTS);
		for (const c of clients) {
			expect(c.closeInfo).toBeNull();
			expect(c.texts.filter((t) => t === "pong").length).toBeGreaterThanOrEqual(IDLE_MS / 1000 - 2);
		}
		// The room sent nothing while clients only pinged.
		expect(clients.map((c) => c.frames.length)).toEqual(framesBefore);
		// Only alarm runs may have constructed the object during the idle; the stats call may add one.
		expect(wakesDuring).toBeLessThanOrEqual(alarmRuns);
		expect(wakeups).toBeLessThanOrEqual(alarmRuns + 1);
		expect(roomWakes(fast, room).length - wakesBefore).toBe(wakeups);
		expect(alarmRuns).toBeGreaterThanOrEqual(1);
		expect(alarmRuns).toBeLessThanOrEqual(Math.floor(elapsed / TIMEOUT_MS) + 1);
		expect(after.heartbeatTimeouts).toBe(0);

		await leaveAll(fast, room, clients, sessions);
		expect(await roomStats(fast, room)).toMatchObject({ connections: 0, alarm: null });
	});

	it("lets a room whose clients only ping hibernate, and pings never wake it", async ({ expect }) => {
		const room = uniqueRoom("hibping");
		const { clients, sessions, stop } = await pingingRoom(slow, room);
		const before = await roomStats(slow, room);
		expect(before.alarm).not.toBeNull();
		const wakesBefore = roomWakes(slow, room).length;
		try {
			// Elapsed time is what is under test: idle past the hibernation timeout while pinging.
			await delay(IDLE_MS);
		} finally {
			stop();
		}
		expect(roomWakes(slow, room).length - wakesBefore, "pings woke the room").toBe(0);
		const after = await roomStats(slow, room);
		// The stats call found the object evicted: it was asleep while the pings were answered.
		const wake = await slow.waitForLog(
			(l) => l.event === "room_wake" && l.room === room && roomWakes(slow, room).indexOf(l) >= wakesBefore,
			5000,
			"the stats call's room_wake",
		);
		expect(wake.sockets).toBe(CLIENTS);
		expect(after.wakeups - before.wakeups).toBe(1);
		expect(after.alarmRuns - before.alarmRuns).toBe(0);
		for (const c of clients) expect(c.texts.filter((t) => t === "pong").length).toBeGreaterThanOrEqual(IDLE_MS / 1000 - 2);
		console.info(
			`hibernated room: ${after.wakeups - before.wakeups} wakeup (the stats call), ${after.alarmRuns - before.alarmRuns} alarm runs in ${IDLE_MS} ms`,
		);

		await leaveAll(slow, room, clients, sessions);
		expect(await roomStats(slow, room)).toMatchObject({ connections: 0, alarm: null });
	});
});
