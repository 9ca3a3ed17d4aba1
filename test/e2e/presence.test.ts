import { afterAll, beforeAll, describe, it } from "vitest";
import { CloseCode } from "../../protocol/close-codes.ts";
import type { PresenceFrame, ServerFrame, WelcomeFrame } from "../../protocol/messages.ts";
import { mintToken, TestClient, uniqueRoom } from "./harness/client.ts";
import { failOnReload, keepAlive, roomWakes } from "./harness/liveness.ts";
import { DevServer } from "./harness/server.ts";

/** The leave grace is HEARTBEAT_INTERVAL_MS (CONTRACT.md §5); long enough for a resume under load. */
const GRACE_MS = 2000;
/** Process scheduling slack on top of the contract's bound. */
const SCHEDULING_MARGIN_MS = 1500;
/** A leave falls due after the grace; the alarm announces it within one more interval. */
const MAX_LEAVE_MS = GRACE_MS + GRACE_MS + SCHEDULING_MARGIN_MS;
/** Local workerd hibernates an idle Durable Object after about 10 s; give it a margin. */
const HIBERNATION_IDLE_MS = 15_000;
const ALICE_NAME = "Alice Liddell";

type Tab = { client: TestClient; welcome: WelcomeFrame };

function delay(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}

function presenceFrames(client: TestClient): PresenceFrame[] {
	return client.frames.filter((f): f is PresenceFrame => f.type === "presence");
}

function isPresence(event: "join" | "leave", sub: string): (f: ServerFrame) => f is PresenceFrame {
	return (f): f is PresenceFrame => f.type === "presence" && f.event === event && f.sub === sub;
}

describe.concurrent("presence: one entry per sub, join on its first tab, leave after its last tab's grace", () => {
	let server: DevServer;
	beforeAll(async () => {
		// A heartbeat timeout longer than the file: tabs may stay silent, and only leaves arm the alarm.
		server = await DevServer.start({ vars: { HEARTBEAT_INTERVAL_MS: String(GRACE_MS), HEARTBEAT_TIMEOUT_MS: "120000" } });
	});
	afterAll(async () => {
		await server?.stop();
	});
	failOnReload(() => server);

	/** Opens a tab of `sub` (alice carries a `name` claim, everyone else defaults to the sub). */
	async function tab(room: string, sub: string, label: string, resume?: string): Promise<Tab> {
		const token = await mintToken(sub, [room], sub === "alice" ? { name: ALICE_NAME } : {});
		return TestClient.connect(server.wsUrl, room, token, resume === undefined ? {} : { resume }, label);
	}

	/** Publishes from `from` and waits until every tab has the message: all earlier frames are in. */
	async function barrier(from: TestClient, tabs: TestClient[], id: string): Promise<void> {
		const ack = await from.publish(id, id);
		if (ack.type !== "ack") throw new Error(`barrier ${id} was refused: ${JSON.stringify(ack)}`);
		await Promise.all(tabs.map((t) => t.next((f) => f.type === "message" && f.id === id, 10_000, `barrier ${id}`)));
	}

	it("lists one entry per sub in welcome.presence, self included, named by the token's name claim or else the sub", async ({ expect }) => {
		const room = uniqueRoom("pres-list");
		const a1 = await tab(room, "alice", "a1");
		expect(a1.welcome.presence).toEqual([{ sub: "alice", name: ALICE_NAME }]);
		const a2 = await tab(room, "alice", "a2");
		expect(a2.welcome.presence).toEqual([{ sub: "alice", name: ALICE_NAME }]);
		const b1 = await tab(room, "bob", "b1");
		const b2 = await tab(room, "bob", "b2");
		for (const t of [b1, b2]) {
			expect(t.welcome.presence).toEqual([
				{ sub: "alice", name: ALICE_NAME },
				{ sub: "bob", name: "bob" },
			]);
		}
		await Promise.all([a1, a2, b1, b2].map((t) => t.client.close()));
	});

	it("broadcasts join only for a sub's first tab, to the others", async ({ expect }) => {
		const room = uniqueRoom("pres-join");
		const a1 = await tab(room, "alice", "a1");
		const a2 = await tab(room, "alice", "a2");
		const b1 = await tab(room, "bob", "b1");
		const b2 = await tab(room, "bob", "b2");
		const a3 = await tab(room, "alice", "a3");
		const all = [a1, a2, b1, b2, a3].map((t) => t.client);
		await barrier(b2.client, all, "after-joins");
		const joinBob = { type: "presence", event: "join", sub: "bob", name: "bob" };
		expect(presenceFrames(a1.client)).toEqual([joinBob]);
		expect(presenceFrames(a2.client)).toEqual([joinBob]);
		// Neither bob's tabs nor alice's third tab saw a join: both subs were already present.
		expect(presenceFrames(b1.client)).toEqual([]);
		expect(presenceFrames(b2.client)).toEqual([]);
		expect(presenceFrames(a3.client)).toEqual([]);
		await Promise.all(all.map((c) => c.close()));
	});

	it("sends no leave when one of a sub's tabs closes, and one leave after the grace when its last tab closes", async ({ expect }) => {
		const room = uniqueRoom("pres-leave");
		const [a1, a2] = [await tab(room, "alice", "a1"), await tab(room, "alice", "a2")];
		const [b1, b2, b3] = [await tab(room, "bob", "b1"), await tab(room, "bob", "b2"), await tab(room, "bob", "b3")];
		// Bob keeps b1 and b3: no leave may follow. Bob's leave, if wrongly started, would fall due
		// before alice's below, so its absence when alice's leave arrives proves there was none.
		// 4000, as the SDK replacing a socket: a loss, so the grace applies (1000 is a goodbye, §12).
		await b2.client.close(CloseCode.ClientReconnect);
		await a1.client.close(CloseCode.ClientReconnect);
		const lastTabClosed = performance.now();
		await a2.client.close(CloseCode.ClientReconnect);

		const leave = await b1.client.next(isPresence("leave", "alice"), MAX_LEAVE_MS + 3000, "leave alice");
		const latency = Math.round(performance.now() - lastTabClosed);
		console.info(`leave latency: ${latency} ms after the last tab's close (grace ${GRACE_MS} ms)`);
		expect(leave).toEqual({ type: "presence", event: "leave", sub: "alice", name: ALICE_NAME });
		expect(latency).toBeGreaterThanOrEqual(GRACE_MS);
		expect(latency).toBeLessThanOrEqual(MAX_LEAVE_MS);

		await barrier(b3.client, [b1.client, b3.client], "after-leave");
		expect(presenceFrames(b1.client)).toEqual([leave]);
		expect(presenceFrames(b3.client)).toEqual([leave]);
		await Promise.all([b1, b3].map((t) => t.client.close()));
	});

	it("sends neither leave nor a second join when a sub's last tab resumes within the grace", async ({ expect }) => {
		const room = uniqueRoom("pres-resume");
		const a1 = await tab(room, "alice", "a1");
		const [b1, b2] = [await tab(room, "bob", "b1"), await tab(room, "bob", "b2")];
		const probe = await tab(room, "carol", "probe");

		await a1.client.close(CloseCode.ClientReconnect);
		// Resume only once the room has handled the close: alice's grace has started.
		const gone = await server.waitForLog((l) => l.event === "disconnect" && l.session === a1.welcome.session, 5000, "the room seeing a1's close");
		const again = await tab(room, "alice", "a1-again", a1.welcome.resume);
		const resumed = await server.waitForLog(
			(l) => l.event === "connect" && l.session === a1.welcome.session && l.resumed === true,
			5000,
			"the resume's connect line",
		);
		// On the room's clock: the resume must land within the grace for this test to mean anything.
		const gap = Number(resumed.ts) - Number(gone.ts);
		console.info(`resume landed ${gap} ms after the room saw the last tab's close (grace ${GRACE_MS} ms)`);
		expect(gap, "the resume must land within the grace").toBeLessThan(GRACE_MS);
		expect(again.welcome.resumed).toBe(true);
		expect(again.welcome.session).toBe(a1.welcome.session);
		expect(again.welcome.presence).toEqual([
			{ sub: "alice", name: ALICE_NAME },
			{ sub: "bob", name: "bob" },
			{ sub: "carol", name: "carol" },
		]);

		// The probe's leave falls due after alice's would have: once it is in, alice's is not coming.
		await probe.client.close(CloseCode.ClientReconnect);
		await b1.client.next(isPresence("leave", "carol"), MAX_LEAVE_MS + 3000, "leave carol");
		await barrier(b2.client, [b1.client, b2.client, again.client], "after-resume");
		for (const b of [b1, b2]) {
			expect(presenceFrames(b.client).map((f) => `${f.event} ${f.sub}`)).toEqual(["join carol", "leave carol"]);
		}
		expect(presenceFrames(again.client).map((f) => `${f.event} ${f.sub}`)).toEqual(["leave carol"]);
		await Promise.all([again, b1, b2].map((t) => t.client.close()));
	});

	it("keeps presence across an eviction: a newcomer sees everyone, and leaves still fire", async ({ expect }) => {
		const room = uniqueRoom("pres-evict");
		const [a1, a2] = [await tab(room, "alice", "a1"), await tab(room, "alice", "a2")];
		const b1 = await tab(room, "bob", "b1");
		const stops = [a1, a2, b1].map((t) => keepAlive(t.client, 1000));
		const wakesBefore = roomWakes(server, room).length;
		try {
			// Elapsed time is what is under test: idle (pings only) past the hibernation timeout.
			await delay(HIBERNATION_IDLE_MS);
		} finally {
			for (const stop of stops) stop();
		}
		expect(roomWakes(server, room).length - wakesBefore, "something woke the room while idle").toBe(0);

		const carol = await tab(room, "carol", "carol");
		const wake = await server.waitForLog(
			(l) => l.event === "room_wake" && l.room === room && roomWakes(server, room).indexOf(l) >= wakesBefore,
			5000,
			"a room_wake after the idle",
		);
		expect(wake.sockets, "the room was rebuilt with the three idle tabs still open").toBe(3);
		expect(carol.welcome.presence).toEqual([
			{ sub: "alice", name: ALICE_NAME },
			{ sub: "bob", name: "bob" },
			{ sub: "carol", name: "carol" },
		]);
		for (const t of [a1, a2, b1]) await t.client.next(isPresence("join", "carol"), 5000, "join carol");

		const closed = performance.now();
		await b1.client.close(CloseCode.ClientReconnect);
		for (const t of [a1, a2, carol]) await t.client.next(isPresence("leave", "bob"), MAX_LEAVE_MS + 3000, "leave bob");
		const latency = Math.round(performance.now() - closed);
		console.info(`leave latency after eviction: ${latency} ms`);
		expect(latency).toBeGreaterThanOrEqual(GRACE_MS);
		expect(latency).toBeLessThanOrEqual(MAX_LEAVE_MS);

		await barrier(carol.client, [a1.client, a2.client, carol.client], "after-evict");
		expect(presenceFrames(a1.client).map((f) => `${f.event} ${f.sub}`)).toEqual(["join bob", "join carol", "leave bob"]);
		expect(presenceFrames(a2.client).map((f) => `${f.event} ${f.sub}`)).toEqual(["join bob", "join carol", "leave bob"]);
		expect(presenceFrames(carol.client).map((f) => `${f.event} ${f.sub}`)).toEqual(["leave bob"]);
		await Promise.all([a1, a2, carol].map((t) => t.client.close()));
	});
});

describe("presence count mode (CONTRACT.md §12) across an eviction, with PRESENCE_EVENTS_MAX=2", () => {
	let server: DevServer;
	beforeAll(async () => {
		server = await DevServer.start({ vars: { PRESENCE_EVENTS_MAX: "2", HEARTBEAT_INTERVAL_MS: String(GRACE_MS), HEARTBEAT_TIMEOUT_MS: "120000" } });
	});
	afterAll(async () => {
		await server?.stop();
	});
	failOnReload(() => server);

	const isCount = (count: number) => (f: ServerFrame) => f.type === "presence_count" && f.count === count;

	it("stays in count mode while the room is evicted; goodbyes count down; at ¾ · 2 = 1 the last one gets presence_state", async ({ expect }) => {
		const room = uniqueRoom("pres-count");
		const tab = async (sub: string) => TestClient.connect(server.wsUrl, room, await mintToken(sub, [room]), {}, sub);
		const [a, b] = [await tab("alice"), await tab("bob")];
		await a.client.next(isPresence("join", "bob"), 5000, "join bob");
		const c = await tab("carol");
		expect(c.welcome).toMatchObject({
			presence: [
				{ sub: "alice", name: "alice" },
				{ sub: "carol", name: "carol" },
			],
			presenceCount: 3,
			presenceTruncated: true,
		});
		for (const t of [a, b, c]) await t.client.next(isCount(3), 3000, "presence_count 3");

		const stops = [a, b, c].map((t) => keepAlive(t.client, 1000));
		const wakesBefore = roomWakes(server, room).length;
		try {
			// Elapsed time is what is under test: idle past the hibernation timeout.
			await delay(HIBERNATION_IDLE_MS);
		} finally {
			for (const stop of stops) stop();
		}
		expect(roomWakes(server, room).length - wakesBefore, "something woke the room while idle").toBe(0);

		const d = await tab("dave");
		await server.waitForLog((l) => l.event === "room_wake" && l.room === room && roomWakes(server, room).indexOf(l) >= wakesBefore, 5000, "a wake");
		expect(d.welcome).toMatchObject({ presenceCount: 4, presenceTruncated: true });
		expect(d.welcome.presence).toHaveLength(2);
		for (const t of [a, b, c, d]) await t.client.next(isCount(4), 3000, "presence_count 4");

		await d.client.close(1000);
		await c.client.close(1000);
		for (const t of [a, b]) await t.client.next(isCount(2), 3000, "presence_count 2 after two goodbyes");
		await b.client.close(1000);
		const state = await a.client.next((f) => f.type === "presence_state", 3000, "presence_state");
		expect(state).toEqual({ type: "presence_state", presence: [{ sub: "alice", name: "alice" }], count: 1 });
		// Count mode sent no join or leave at all after bob's join.
		expect(presenceFrames(a.client).map((f) => `${f.event} ${f.sub}`)).toEqual(["join bob"]);
		await a.client.close();
	});
});
