/**
 * Limits of the room's log and migrations (CONTRACT.md §2, §8, §13): the byte budget of the kept
 * log and of what one request holds, dedupe records dropped by age (sockets or not, no alarm in an empty room), the
 * log epoch, and migration steps that time out before the pointer flips.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MIGRATION_STEP_TIMEOUT_MS } from "../../durable-objects/anchor/step.ts";
import { BatonRoom as Room } from "../../durable-objects/room/baton-room.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import {
	admin,
	api,
	eventually,
	expectErrorResponse,
	expectRefusal,
	history,
	httpPublish,
	join,
	LIMITS,
	leaveRoom,
	muteInfoLogs,
	openSocket,
	roomObject,
	stats,
	tokenFor,
	uniqueRoom,
} from "./helpers.ts";

muteInfoLogs();

const utf8 = (text: string) => new TextEncoder().encode(text).length;
/** Data of ~3.9 KB: a frame within MAX_MESSAGE_BYTES. */
const big = (i: number) => `${i}:${"x".repeat(3900)}`;

/** Publishes `n` big messages over HTTP, one sub per burst (the bucket is per sub). */
async function publishBig(room: string, n: number): Promise<void> {
	for (let i = 0; i < n; i++) {
		const token = await tokenFor(room, `w${Math.floor(i / LIMITS.rateBurst)}`);
		const res = await httpPublish(room, token, { id: `b${i}`, data: big(i) });
		expect(res.status, await res.clone().text()).toBe(200);
	}
}

describe("finding 2: the kept log and every request stay within HISTORY_MAX_BYTES", () => {
	it("the oldest messages go first once their frames add up to more than HISTORY_MAX_BYTES; history and replay say gap", async () => {
		const room = uniqueRoom();
		await publishBig(room, 20);
		const token = await tokenFor(room);
		const page = await history(room, token, "?limit=500");
		const kept = page.messages.map((m) => utf8(JSON.stringify(m))).reduce((a, b) => a + b, 0);
		expect(kept).toBeLessThanOrEqual(LIMITS.historyMaxBytes);
		// No more went than needed: one more frame would not have fit.
		expect(kept + 4000).toBeGreaterThan(LIMITS.historyMaxBytes);
		expect(page.seq).toBe(20);
		expect(page.oldest).toBe(page.messages[0]?.seq);
		expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: page.messages.length }, (_, i) => 21 - page.messages.length + i));
		expect(page.messages.length).toBeLessThan(LIMITS.historyLimit);
		const { socket, welcome } = await join(room, "reader", { after: 0 });
		expect(welcome).toMatchObject({ seq: 20, replayed: page.messages.length, gap: true });
		for (const m of page.messages) expect((await socket.message(m.seq)).data).toEqual(m.data);
		await leaveRoom(room, socket);
	});

	it("a replay streamed from storage still comes whole and in order between welcome and the first live message", async () => {
		const room = uniqueRoom();
		await publishBig(room, 6);
		const writer = await join(room, "writer");
		const { socket, welcome } = await join(room, "reader", { after: 0 });
		writer.socket.publish("live", 1);
		await writer.socket.ack("live");
		await socket.message(7);
		const order = socket.frames().flatMap((f): Array<string | number> => (f.type === "welcome" ? ["welcome"] : f.type === "message" ? [f.seq] : []));
		expect(order).toEqual(["welcome", ...Array.from({ length: welcome.replayed }, (_, i) => 7 - welcome.replayed + i), 7]);
		expect(welcome.replayed).toBe(6);
		await leaveRoom(room, socket, writer.socket);
	});

	it("stored frames replay and page byte for byte as they were broadcast", async () => {
		const room = uniqueRoom();
		const live = await join(room, "live");
		const data = { text: "ünïcödé ✓ 😀", n: [1, 2.5, -0, 1e21], nested: { a: null, b: [true, false] }, quote: '"\\' };
		live.socket.publish("odd", data);
		const broadcast = await live.socket.next((e) => e.kind === "frame" && e.frame?.type === "message", { what: "message" });
		const { socket } = await join(room, "later", { after: 0 });
		const replayed = await socket.next((e) => e.kind === "frame" && e.frame?.type === "message", { what: "replay" });
		expect(replayed.kind === "frame" && replayed.text).toBe(broadcast.kind === "frame" && broadcast.text);
		const res = await api(`/v1/rooms/${room}/messages`, { token: await tokenFor(room) });
		const body = (await res.json()) as { messages: unknown[] };
		expect(body.messages[0]).toEqual(broadcast.kind === "frame" ? JSON.parse(broadcast.text) : null);
		await leaveRoom(room, live.socket, socket);
	});
});

/** The room's dedupe records, read in its storage. */
function dedupeRows(room: string): Promise<Array<{ session: string; id: string }>> {
	return runInDurableObject(roomObject(room), (_i, state) =>
		state.storage.sql.exec<{ session: string; id: string }>("SELECT session, id FROM _baton_dedupe ORDER BY id").toArray(),
	);
}

/** Moves every dedupe record's time back past RESUME_WINDOW_MS (time travel by rewriting storage). */
function ageDedupe(room: string): Promise<void> {
	return runInDurableObject(roomObject(room), (_i, state) => {
		state.storage.sql.exec("UPDATE _baton_dedupe SET ts = ts - ?", LIMITS.resumeWindowMs + 1000);
	});
}

describe("finding 9: dedupe records are dropped by age, sockets or not", () => {
	it("a room without sockets keeps no alarm for its HTTP dedupe records: an expired one is void at once and dropped at the next wake", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room, "writer");
		expect((await httpPublish(room, token, { id: "h1", data: 1 })).status).toBe(200);
		expect((await httpPublish(room, token, { id: "h1", data: 1 })).headers.get("X-Baton-Dup")).toBe("true");
		expect((await stats(room)).alarm).toBeNull();
		await ageDedupe(room);
		// The id is new again: stored once more, not answered as a duplicate.
		const again = await httpPublish(room, token, { id: "h1", data: 2 });
		expect(again.headers.get("X-Baton-Dup")).toBe("false");
		expect(((await again.json()) as { seq: number }).seq).toBe(2);
		expect((await httpPublish(room, token, { id: "h2", data: 3 })).status).toBe(200);
		await ageDedupe(room);
		await evictDurableObject(roomObject(room));
		expect(await dedupeRows(room)).toEqual([]);
		expect((await stats(room)).alarm).toBeNull();
	});

	it("a session that stays connected has its old dedupe records dropped by the alarm run", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		socket.publish("p1");
		await socket.ack("p1");
		expect(await dedupeRows(room)).toHaveLength(1);
		await ageDedupe(room);
		expect(await runDurableObjectAlarm(roomObject(room))).toBe(true);
		expect(await dedupeRows(room)).toEqual([]);
		expect(socket.closeEvent).toBeUndefined();
		await leaveRoom(room, socket);
	});
});

describe("log epoch", () => {
	it("welcome.epoch stays the same across connections; ?epoch= of this log replays as usual", async () => {
		const room = uniqueRoom();
		const first = await join(room, "alice");
		first.socket.publish("a");
		await first.socket.ack("a");
		const second = await join(room, "bob", { after: 1, query: { epoch: first.welcome.epoch ?? "" } });
		expect(second.welcome).toMatchObject({ epoch: first.welcome.epoch, reset: false, gap: false, replayed: 0 });
		await leaveRoom(room, first.socket, second.socket);
	});

	it("?epoch= of another log replays from the oldest kept message with gap:true and reset:true", async () => {
		const room = uniqueRoom();
		const writer = await join(room, "writer");
		for (const id of ["a", "b", "c"]) {
			writer.socket.publish(id);
			await writer.socket.ack(id);
		}
		// The client followed another log up to seq 50: its `after` means nothing here.
		const { socket, welcome } = await join(room, "reader", { after: 50, query: { epoch: "AnotherLogsEpoch000000" } });
		expect(welcome).toMatchObject({ seq: 3, replayed: 3, gap: true, reset: true, epoch: writer.welcome.epoch });
		expect([(await socket.message()).seq, (await socket.message()).seq, (await socket.message()).seq]).toEqual([1, 2, 3]);
		await leaveRoom(room, writer.socket, socket);
	});

	it("a malformed ?epoch= is refused 4400 bad_request", async () => {
		const room = uniqueRoom();
		const socket = await openSocket(room, { token: await tokenFor(room), after: 0, query: { epoch: "not/an epoch" } });
		await expectRefusal(socket, CloseCode.BadRequest, { code: ErrorCode.BadRequest });
	});

	it("a migration keeps the epoch", async () => {
		const room = uniqueRoom();
		const before = await join(room, "alice");
		before.socket.publish("a");
		await before.socket.ack("a");
		const res = await admin(`/rooms/${room}/migrate`, { body: { to: "weur" } });
		expect(res.status, await res.clone().text()).toBe(200);
		expect((await before.socket.closed()).code).toBe(CloseCode.RoomMoved);
		const after = await join(room, "alice", { resume: before.welcome.resume, after: 1, query: { epoch: before.welcome.epoch ?? "" } });
		expect(after.welcome).toMatchObject({ home: "weur", epoch: before.welcome.epoch, reset: false, resumed: true });
		await leaveRoom(room, after.socket);
	});
});

const spies: Array<{ mockRestore(): void }> = [];
afterEach(() => {
	for (const spy of spies.splice(0)) spy.mockRestore();
});

describe("finding 13: migration steps time out before the flip; after it the migration rolls forward", () => {
	it(
		`a copy step that does not answer within ${MIGRATION_STEP_TIMEOUT_MS} ms fails the migration with 503 migration_failed and the old home serves on`,
		async () => {
			const room = uniqueRoom();
			const alice = await join(room, "alice");
			alice.socket.publish("a");
			await alice.socket.ack("a");
			// The new home hangs on its first page of the copy.
			const hang = vi.spyOn(Room.prototype, "importChunk").mockImplementation(() => new Promise<void>(() => {}));
			spies.push(hang);
			const started = Date.now();
			await expectErrorResponse(await admin(`/rooms/${room}/migrate`, { body: { to: "weur" } }), 503, ErrorCode.MigrationFailed);
			expect(Date.now() - started).toBeGreaterThanOrEqual(MIGRATION_STEP_TIMEOUT_MS - 100);
			hang.mockRestore();
			// Unfrozen: the socket was never told to move and publishes again; the route is unchanged.
			alice.socket.publish("b");
			expect((await alice.socket.ack("b")).seq).toBe(2);
			expect(alice.socket.closeEvent).toBeUndefined();
			expect((await stats(room)).home).toBe("wnam");
			// A later attempt (a fresh generation) moves it.
			const ok = await admin(`/rooms/${room}/migrate`, { body: { to: "weur" } });
			expect(ok.status, await ok.clone().text()).toBe(200);
			expect((await alice.socket.closed()).code).toBe(CloseCode.RoomMoved);
		},
		MIGRATION_STEP_TIMEOUT_MS * 3,
	);

	it("an old home that fails to move its sockets after the flip is retried by the anchor until they are told to move", async () => {
		const room = uniqueRoom();
		const alice = await join(room, "alice");
		const original = Room.prototype.completeMove;
		let failures = 1;
		const flaky = vi.spyOn(Room.prototype, "completeMove").mockImplementation(function (this: Room, target) {
			if (failures-- > 0) throw new Error("old home unavailable");
			return original.call(this, target);
		});
		spies.push(flaky);
		const res = await admin(`/rooms/${room}/migrate`, { body: { to: "weur" } });
		expect(res.status, await res.clone().text()).toBe(200);
		expect(((await res.json()) as { moved: number }).moved).toBe(0);
		// Flipped: the room is served from its new home already, and the old home is told again
		// (by the next resolve or the anchor's alarm, whichever comes first) until it answers.
		const { env } = await import("cloudflare:test");
		const anchor = env.ANCHORS.get(env.ANCHORS.idFromName(room));
		await eventually(
			async () => {
				await runDurableObjectAlarm(anchor);
				return alice.socket.closeEvent?.code;
			},
			(code) => code === CloseCode.RoomMoved,
			"the old home's sockets told to move",
		);
		expect((await stats(room)).home).toBe("weur");
		expect(failures).toBe(-1);
	});
});
