import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AckFrame } from "../../protocol/messages.ts";
import { mintToken, range, seqs, TestClient, uniqueRoom } from "./harness/client.ts";
import { DevServer } from "./harness/server.ts";

/** Local workerd hibernates an idle Durable Object after about 10 s; give it a margin. */
const HIBERNATION_IDLE_MS = 15_000;

describe("hibernation: the room is evicted while sockets stay open", () => {
	let server: DevServer;
	beforeAll(async () => {
		server = await DevServer.start();
	});
	afterAll(async () => {
		await server?.stop();
	});

	it("keeps seq, dedupe records, sessions, presence and publish rights across a real eviction", async () => {
		const room = uniqueRoom("evict");
		const clients: TestClient[] = [];
		for (const sub of ["ann", "bob", "cat"]) {
			// cat is a read-only viewer (publish claim without this room): its rights live in the attachment too.
			const claims = sub === "cat" ? { publish: [] } : {};
			clients.push((await TestClient.connect(server.wsUrl, room, await mintToken(sub, [room], { claims }), {}, sub)).client);
		}
		const [ann, bob, cat] = clients as [TestClient, TestClient, TestClient];
		for (let i = 1; i <= 3; i++) expect(await ann.publish(`a${i}`, i)).toMatchObject({ type: "ack", seq: i, dup: false });
		const before = server.logs.filter((l) => l.event === "room_wake" && l.room === room).length;

		// Stay connected and silent past the hibernation timeout. This wait is the runtime's
		// eviction timer itself; the assertions below fail loudly if no eviction happened.
		await new Promise((r) => setTimeout(r, HIBERNATION_IDLE_MS));

		const dup = (await ann.publish("a2", "again")) as AckFrame;
		expect(dup).toMatchObject({ type: "ack", seq: 2, dup: true });
		const wake = await server.waitForLog(
			(l) => l.event === "room_wake" && l.room === room && Number(l.sockets) === 3,
			10_000,
			"a room_wake with 3 open sockets",
		);
		expect(server.logs.filter((l) => l.event === "room_wake" && l.room === room).length).toBeGreaterThan(before);
		expect(wake.sockets).toBe(3);

		expect(await bob.publish("b1", "after")).toMatchObject({ type: "ack", seq: 4, dup: false });
		expect(await cat.publish("c1", "read-only")).toMatchObject({ type: "error", code: "forbidden", id: "c1" });
		for (const c of clients) expect(seqs(await c.waitForMessages(4))).toEqual(range(1, 4));

		const stats = await server.admin("GET", `/v1/admin/rooms/${room}/stats`);
		expect(stats.body).toMatchObject({ seq: 4, connections: 3, sessions: 3 });
		const info = await fetch(`${server.url}/v1/rooms/${room}?token=${await mintToken("dan", [room])}`).then((r) => r.json());
		expect(info).toMatchObject({ connections: 3, presence: [{ sub: "ann" }, { sub: "bob" }, { sub: "cat" }] });
		await Promise.all(clients.map((c) => c.close()));
	});
});
