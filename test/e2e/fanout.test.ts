import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken, range, seqs, TestClient, uniqueRoom } from "./harness/client.ts";
import { DevServer } from "./harness/server.ts";

const CLIENTS = 50;
const PUBLISHERS = 5;
const PER_PUBLISHER = 20;

describe("a room of 50 clients against wrangler dev", () => {
	let server: DevServer;
	beforeAll(async () => {
		server = await DevServer.start({ vars: { RATE_LIMIT_BURST: "100", RATE_LIMIT_PER_SEC: "100" } });
	});
	afterAll(async () => {
		await server?.stop();
	});

	it("delivers every message from 5 concurrent publishers to every client exactly once, in seq order", async () => {
		const room = uniqueRoom("fanout");
		const clients: TestClient[] = [];
		for (let i = 0; i < CLIENTS; i++) {
			const token = await mintToken(`user-${i}`, [room]);
			clients.push((await TestClient.connect(server.wsUrl, room, token, {}, `c${i}`)).client);
		}
		const total = PUBLISHERS * PER_PUBLISHER;
		const publishers = clients.slice(0, PUBLISHERS);
		const acks = await Promise.all(
			publishers.map(async (c, p) => {
				const sent = Array.from({ length: PER_PUBLISHER }, (_, k) => {
					c.send({ type: "publish", id: `p${p}-${k}`, data: { p, k } });
					return c.next((f) => f.type === "ack" && f.id === `p${p}-${k}`, 30_000, `ack p${p}-${k}`);
				});
				return Promise.all(sent);
			}),
		);
		expect(acks.flat()).toHaveLength(total);
		for (const c of clients) {
			const got = await c.waitForMessages(total);
			expect(seqs(got)).toEqual(range(1, total));
		}
		// Each publisher's own messages keep their send order within the room's order.
		const first = clients[0]?.messages() ?? [];
		for (let p = 0; p < PUBLISHERS; p++) {
			const ks = first.filter((m) => m.from === `user-${p}`).map((m) => (m.data as { k: number }).k);
			expect(ks).toEqual(range(0, PER_PUBLISHER - 1));
		}
		await Promise.all(clients.map((c) => c.close()));
	});
});
