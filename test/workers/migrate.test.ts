/**
 * Admin migration inside one runtime (CONTRACT.md §3, §8): refusals, then a move with a client
 * connected: 4010 with the new home, a resume there with nothing lost or duplicated, and stale
 * routes to the old home forwarded. Crash recovery and real regions are covered by test/e2e.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { HistoryPage } from "../../durable-objects/room/types.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import {
	admin,
	expectErrorResponse,
	expectRefusal,
	history,
	httpPublish,
	join,
	leaveRoom,
	muteInfoLogs,
	openSocket,
	roomObject,
	stats,
	tokenFor,
	uniqueRoom,
} from "./helpers.ts";

muteInfoLogs();

const migrate = (room: string, body: unknown) => admin(`/rooms/${encodeURIComponent(room)}/migrate`, { body });

describe("admin migrate refusals", () => {
	it.each([
		["a region outside BATON_REGIONS", { to: "enam" }],
		["an unknown region", { to: "mars" }],
		["no target", {}],
		["a numeric target", { to: 1 }],
	])("%s answers 400 bad_region", async (_name, body) => {
		await expectErrorResponse(await migrate(uniqueRoom(), body), 400, ErrorCode.BadRegion);
	});

	it("the room's current home answers 409 already_there", async () => {
		const room = uniqueRoom();
		const { socket, welcome } = await join(room);
		expect(welcome.home).toBe("wnam");
		await expectErrorResponse(await migrate(room, { to: "wnam" }), 409, ErrorCode.AlreadyThere);
		socket.publish("still-home");
		await socket.ack("still-home");
		socket.close();
	});

	it("a bad room name answers 400 bad_room", async () => {
		await expectErrorResponse(await migrate("-bad", { to: "weur" }), 400, ErrorCode.BadRoom);
	});
});

describe("admin migrate", () => {
	it("moves the room: clients get 4010 with the new home and resume there with nothing lost or duplicated", async () => {
		const room = uniqueRoom();
		const alice = await join(room, "alice");
		for (const id of ["a", "b", "c"]) {
			alice.socket.publish(id);
			await alice.socket.ack(id);
		}
		const res = await migrate(room, { to: "weur" });
		expect(res.status, await res.clone().text()).toBe(200);
		expect(await res.json()).toEqual({ from: "wnam", to: "weur", seq: 3, moved: 1 });

		const closed = await alice.socket.closed();
		expect(closed.code).toBe(CloseCode.RoomMoved);
		expect(JSON.parse(closed.reason)).toEqual({ home: "weur", retryIn: expect.any(Number) });

		const back = await join(room, "alice", { resume: alice.welcome.resume, after: 3 });
		expect(back.welcome).toMatchObject({ resumed: true, session: alice.welcome.session, home: "weur", seq: 3, replayed: 0, gap: false });
		// Dedupe records moved with the session.
		back.socket.publish("b");
		expect(await back.socket.ack("b")).toEqual({ type: "ack", id: "b", seq: 2, dup: true });
		back.socket.publish("d");
		expect((await back.socket.ack("d")).seq).toBe(4);

		const token = await tokenFor(room);
		expect((await history(room, token)).messages.map((m) => m.id)).toEqual(["a", "b", "c", "d"]);
		expect((await stats(room)).home).toBe("weur");
		// A stale route to the old object is forwarded to the new home, never served from a stale copy.
		const stale = await runInDurableObject(roomObject(room), (oldHome) => oldHome.history(room, 0, 100));
		expect(stale.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
		back.socket.close();
	});

	it("a room can move on again, and back, keeping seq gapless", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room, "writer");
		const publish = async (id: string) => {
			const res = await httpPublish(room, token, { id, data: id });
			expect(res.status).toBe(200);
			return ((await res.json()) as { seq: number }).seq;
		};
		expect(await publish("x1")).toBe(1);
		expect((await migrate(room, { to: "weur" })).status).toBe(200);
		expect(await publish("x2")).toBe(2);
		expect((await migrate(room, { to: "apac" })).status).toBe(200);
		expect(await publish("x3")).toBe(3);
		expect((await migrate(room, { to: "wnam" })).status).toBe(200);
		expect(await publish("x1")).toBe(1);
		expect((await history(room, token)).messages.map((m) => m.seq)).toEqual([1, 2, 3]);
		expect((await stats(room)).home).toBe("wnam");
	});
});

describe("a room frozen for a migration", () => {
	it("tells a new session to retry shortly (1013 room_moving) and lets a session it holds resume", async () => {
		const room = uniqueRoom();
		const alice = await join(room, "alice");
		alice.socket.publish("a");
		await alice.socket.ack("a");
		alice.socket.close();
		await alice.socket.closed();
		await roomObject(room).freeze(room);

		// A brand-new session would not be in the copy the migration is making.
		const stranger = await openSocket(room, { token: await tokenFor(room, "bob"), label: "bob" });
		await expectRefusal(stranger, CloseCode.TryAgainLater, { code: ErrorCode.RoomMoving, retryIn: expect.any(Number) });
		const { retryIn } = JSON.parse((await stranger.closed()).reason) as { retryIn: number };
		expect(retryIn).toBeGreaterThanOrEqual(500);
		expect(retryIn).toBeLessThan(1500);
		// A forged or foreign resume token does not get through either.
		const forged = await openSocket(room, { token: await tokenFor(room, "bob"), resume: alice.welcome.resume, label: "bob-forged" });
		await expectRefusal(forged, CloseCode.TryAgainLater, { code: ErrorCode.RoomMoving, retryIn: expect.any(Number) });

		// Alice's session is here, so it is in the copy: she resumes (and may not publish yet).
		const back = await join(room, "alice", { resume: alice.welcome.resume, after: 1 });
		expect(back.welcome).toMatchObject({ resumed: true, session: alice.welcome.session, seq: 1, replayed: 0 });
		back.socket.publish("b");
		expect(await back.socket.error(ErrorCode.RoomMoving)).toMatchObject({ code: ErrorCode.RoomMoving, id: "b" });

		// A rolled-back migration unfreezes the room: new sessions are welcome again.
		await roomObject(room).unfreeze();
		const bob = await join(room, "bob");
		expect(bob.welcome).toMatchObject({ resumed: false, seq: 1 });
		await leaveRoom(room, back.socket, bob.socket);
	});
});
