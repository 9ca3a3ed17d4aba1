/**
 * `persist` across a page reload, against a real `wrangler dev`. The "page" is an SDK instance
 * with a socket the test can cut off and a view of a shared store; the reload kills both without
 * `close()` (as a browser unloading a page would) and starts a new instance on the same store.
 * Before the reload one publish reached the room but its ack was lost, another never left; after
 * it the session resumes, the replay starts after the saved lastSeq, and both publishes end up
 * stored exactly once — nothing lost, nothing delivered or stored twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connect, type MessageFrame, type Room, type StorageLike } from "../../client/index.ts";
import { mintToken, range, seqs, uniqueRoom } from "./harness/client.ts";
import { duplicatedIds, fetchHistory } from "./harness/resuming-peer.ts";
import { freezableSockets, nextEvent, reachSeq, recordEvents } from "./harness/sdk.ts";
import { DevServer } from "./harness/server.ts";

/** One tab's sessionStorage, seen by one page at a time: a dead page's writes go nowhere. */
class TabStorage {
	readonly items = new Map<string, string>();

	/** A page's view of it; `kill()` ends that page's access. */
	view(): StorageLike & { kill(): void } {
		let alive = true;
		return {
			getItem: (key) => (alive ? (this.items.get(key) ?? null) : null),
			setItem: (key, value) => {
				if (alive) this.items.set(key, value);
			},
			removeItem: (key) => {
				if (alive) this.items.delete(key);
			},
			kill: () => {
				alive = false;
			},
		};
	}
}

describe("persist across a page reload, against wrangler dev", () => {
	let server: DevServer;
	const rooms: Room<unknown>[] = [];

	beforeAll(async () => {
		server = await DevServer.start();
	});
	afterAll(async () => {
		for (const room of rooms) room.close();
		await server?.stop();
	});

	it("resumes the session with nothing lost or duplicated: an unacked publish the room stored, one it never got, and the messages sent meanwhile", async () => {
		const room = uniqueRoom("persist");
		const token = await mintToken("pia", [room]);
		const tab = new TabStorage();
		const bob = connect<string>({ url: server.url, room, token: await mintToken("bob", [room]), WebSocket });
		rooms.push(bob as Room<unknown>);
		const bobSeen = recordEvents(bob, "message");
		await bob.ready;

		// The page before the reload.
		const firstStore = tab.view();
		const { WebSocket: Freezable, sockets } = freezableSockets();
		const before = connect<string>({ url: server.url, room, token, WebSocket: Freezable, persist: { storage: firstStore } });
		rooms.push(before as Room<unknown>);
		const beforeSeen = recordEvents(before, "message");
		const { session } = await before.ready;
		await bob.publish("b1");
		await bob.publish("b2");
		await reachSeq(before, 2);
		// The ack of p1 is lost: the room stores it, the page never hears back.
		sockets[0]?.freezeIncoming();
		before.publish("p1", { id: "p1" }).catch(() => undefined);
		await reachSeq(bob, 3);
		expect(bobSeen.at(-1)?.id).toBe("p1");
		// p2 never leaves: the network is gone when it is published, then the page dies.
		sockets[0]?.kill();
		before.publish("p2", { id: "p2" }).catch(() => undefined);
		// The SDK saves on the microtask after a change; this await runs after it.
		await Promise.resolve();
		firstStore.kill();
		// While the tab reloads, bob keeps talking.
		await bob.publish("b3");
		expect(seqs(beforeSeen)).toEqual([1, 2]);

		// The reloaded page: same tab storage.
		const after = connect<string>({ url: server.url, room, token, WebSocket, persist: { storage: tab.view() } });
		rooms.push(after as Room<unknown>);
		expect(after.lastSeq).toBe(2);
		expect(after.pending.map((p) => [p.id, p.data, p.restored])).toEqual([
			["p1", "p1", true],
			["p2", "p2", true],
		]);
		const afterSeen = recordEvents(after, "message");
		const acks = recordEvents(after, "ack");
		const welcome = await after.ready;
		expect(welcome).toMatchObject({ session, resumed: true, replayed: 2 });
		if (!acks.some((a) => a.id === "p2")) await nextEvent(after, "ack", (a) => a.id === "p2", 15_000, "p2 acked");
		expect(acks).toEqual([
			{ id: "p1", seq: 3, dup: true },
			{ id: "p2", seq: 5, dup: false },
		]);
		await reachSeq(bob, 5);
		await reachSeq(after, 5);

		// Every message once: the first page saw 1–2, the reloaded one 3–5 (p1, b3, p2).
		expect([...seqs(beforeSeen), ...seqs(afterSeen)]).toEqual(range(1, 5));
		expect(afterSeen.map((m: MessageFrame<string>) => m.data)).toEqual(["p1", "b3", "p2"]);
		expect(seqs(bobSeen)).toEqual(range(1, 5));
		const history = await fetchHistory(server.url, room, token);
		expect(history.messages.map((m) => m.data)).toEqual(["b1", "b2", "p1", "b3", "p2"]);
		expect(duplicatedIds(history.messages)).toEqual({});
		expect(after.pendingPublishes).toBe(0);
	});
});
