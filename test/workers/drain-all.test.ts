/**
 * `POST /v1/admin/drain-all` over many rooms (finding 14): rooms are drained a bounded number at
 * a time (DRAIN_ALL_CONCURRENCY, 8 by default), not one after another, and a room that fails does
 * not fail the others. The room's own `drain` is watched through its prototype (the Durable Object
 * runs in this isolate): each call is held until the test lets it go, so the test sees exactly how
 * many are in flight.
 */

import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registryStub } from "../../durable-objects/registry/registry.ts";
import { BatonRoom as Room } from "../../durable-objects/room/baton-room.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import { admin, eventually, join, leaveRoom, muteInfoLogs, type TestSocket, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

const DEFAULT_CONCURRENCY = 8;

/** Restored after each test (not vi.restoreAllMocks: that would unmute the logs). */
const spies: Array<{ mockRestore(): void }> = [];
afterEach(() => {
	for (const spy of spies.splice(0)) spy.mockRestore();
});

/**
 * Holds every `drain` call until the test releases it; counts the calls in flight. The hold is a
 * short timer loop over a set the test writes: a promise made inside one Durable Object cannot
 * be resolved from another context (the runtime refuses cross-object I/O), plain data can.
 */
function holdDrains(failFor: ReadonlySet<string> = new Set()) {
	const original = Room.prototype.drain;
	const waiting: string[] = [];
	const released = new Set<string>();
	const state = { started: 0, inFlight: 0, maxInFlight: 0 };
	const spy = vi.spyOn(Room.prototype, "drain");
	spies.push(spy);
	spy.mockImplementation(async function (this: Room, room: string) {
		state.started += 1;
		state.inFlight += 1;
		state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
		waiting.push(room);
		try {
			while (!released.has(room)) await new Promise((resolve) => setTimeout(resolve, 2));
			if (failFor.has(room)) throw new Error(`drain of ${room} failed on purpose`);
			return await original.call(this, room);
		} finally {
			state.inFlight -= 1;
		}
	});
	const releaseOne = () => {
		const next = waiting.shift();
		if (next === undefined) throw new Error("no drain is held");
		released.add(next);
	};
	return { state, held: waiting, releaseOne };
}

async function roomsWithOneSocket(n: number): Promise<Array<{ room: string; socket: TestSocket }>> {
	const out: Array<{ room: string; socket: TestSocket }> = [];
	for (let i = 0; i < n; i++) {
		const room = uniqueRoom(`drain-all-${i}`);
		const { socket } = await join(room, "alice");
		out.push({ room, socket });
	}
	// Rooms reach the registry from their anchor (in waitUntil): wait until drain-all would list them.
	for (const { room } of out) {
		await eventually(
			() => registryStub(env, room).list(0),
			(listed) => listed.includes(room),
			`${room} in the registry`,
		);
	}
	return out;
}

/** Calls drain-all and lets held drains go one at a time until it answers. */
async function drainAllReleasingOneByOne(hold: ReturnType<typeof holdDrains>): Promise<{ rooms: number; closed: number; failed: number }> {
	let answered = false;
	const answer = admin("/drain-all", { method: "POST" }).finally(() => {
		answered = true;
	});
	while (!answered) {
		await eventually(async () => hold.held.length > 0 || answered, Boolean, "a held drain or the answer");
		if (hold.held.length > 0) hold.releaseOne();
	}
	const res = await answer;
	expect(res.status).toBe(200);
	return (await res.json()) as { rooms: number; closed: number; failed: number };
}

describe("finding 14: drain-all drains rooms a bounded number at a time", () => {
	it(`keeps ${DEFAULT_CONCURRENCY} rooms in flight, never more, and answers {rooms, closed, failed} once every room sent its closes`, async () => {
		const rooms = await roomsWithOneSocket(20);
		const hold = holdDrains();
		const answer = drainAllReleasingOneByOne(hold);
		const body = await answer;
		expect(hold.state.maxInFlight).toBe(DEFAULT_CONCURRENCY);
		expect(hold.state.started).toBe(body.rooms);
		expect(body.rooms).toBeGreaterThanOrEqual(rooms.length);
		expect(body.failed).toBe(0);
		expect(body.closed).toBeGreaterThanOrEqual(rooms.length);
		for (const { socket } of rooms) expect((await socket.closed()).code).toBe(CloseCode.ServiceRestart);
	});

	it("a room whose drain fails is counted in failed; every other room is still drained", async () => {
		const rooms = await roomsWithOneSocket(3);
		const broken = rooms[1]?.room ?? "";
		const body = await drainAllReleasingOneByOne(holdDrains(new Set([broken])));
		expect(body.failed).toBe(1);
		for (const { room, socket } of rooms) {
			if (room !== broken) expect((await socket.closed()).code).toBe(CloseCode.ServiceRestart);
		}
		await leaveRoom(broken, ...rooms.filter((r) => r.room === broken).map((r) => r.socket));
	});
});
