import { describe, expect, it } from "vitest";
import { CloseCode } from "../../client/index.ts";
import { expectRedialAfter, startOpen, useFakes } from "./harness.ts";

useFakes();

const alice = { sub: "alice", name: "Alice" };
const bob = { sub: "bob", name: "bob" };
const carol = { sub: "carol", name: "Carol" };

describe("room.presence and room.presenceCount", () => {
	it("start from the welcome and follow join/leave in event mode, with a presence_count event per change", async () => {
		const { room, events, ws } = await startOpen({}, { presence: [alice], presenceCount: 1 });
		expect(room.presence).toEqual([alice]);
		expect(room.presenceCount).toBe(1);
		expect(events.presence_count).toEqual([{ count: 1, truncated: false }]);
		ws.receive({ type: "presence", event: "join", ...bob });
		expect(room.presence).toEqual([alice, bob]);
		expect(room.presenceCount).toBe(2);
		ws.receive({ type: "presence", event: "leave", ...alice });
		expect(room.presence).toEqual([bob]);
		expect(events.presence_count.map((e) => e.count)).toEqual([1, 2, 1]);
		expect(events.presence.map((p) => `${p.event}:${p.sub}`)).toEqual(["join:bob", "leave:alice"]);
	});

	it("count the list when the server does not send presenceCount", async () => {
		const { room } = await startOpen({}, { presence: [alice, bob] });
		expect(room.presenceCount).toBe(2);
		expect(room.presenceTruncated).toBe(false);
	});

	it("keep the list's identity until it changes", async () => {
		const { room, ws } = await startOpen({}, { presence: [alice] });
		const before = room.presence;
		ws.message(1);
		expect(room.presence).toBe(before);
		ws.receive({ type: "presence", event: "join", ...bob });
		expect(room.presence).not.toBe(before);
	});

	it("in count mode take the count from presence_count frames, then come back to the full list with presence_state", async () => {
		const { room, events, ws } = await startOpen({}, { presence: [carol], presenceCount: 250, presenceTruncated: true });
		expect(room.presenceTruncated).toBe(true);
		expect(room.presenceCount).toBe(250);
		ws.receive({ type: "presence_count", count: 251 });
		expect(room.presenceCount).toBe(251);
		ws.receive({ type: "presence_state", presence: [alice, bob], count: 2 });
		expect(room.presence).toEqual([alice, bob]);
		expect(room.presenceCount).toBe(2);
		expect(room.presenceTruncated).toBe(false);
		expect(events.presence_state).toEqual([{ type: "presence_state", presence: [alice, bob], count: 2 }]);
		expect(events.presence_count).toEqual([
			{ count: 250, truncated: true },
			{ count: 251, truncated: true },
			{ count: 2, truncated: false },
		]);
	});

	it("switch to count mode on a presence_count frame while in event mode", async () => {
		const { room, ws } = await startOpen({}, { presence: [alice, bob], presenceCount: 2 });
		ws.receive({ type: "presence_count", count: 101 });
		expect(room.presenceCount).toBe(101);
		expect(room.presenceTruncated).toBe(true);
		// A stray join in count mode does not make the count exact again.
		ws.receive({ type: "presence", event: "join", ...carol });
		expect(room.presenceCount).toBe(101);
	});

	it("are replaced by the next welcome after a reconnect", async () => {
		const { room, ws } = await startOpen({}, { presence: [alice, bob], resume: "r-1" });
		ws.serverClose(CloseCode.Abnormal);
		const next = await expectRedialAfter(125);
		next.welcome({ presence: [bob], presenceCount: 1, resumed: true });
		expect(room.presence).toEqual([bob]);
		expect(room.presenceCount).toBe(1);
	});
});
