import { describe, expect, it } from "vitest";
import { CloseCode } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { expectRedialAfter, seqs, settle, start, startOpen, useFakes } from "./harness.ts";

useFakes();

describe("in-order, exactly-once delivery", () => {
	it("starts a fresh connection at the room's head and delivers live messages from there", async () => {
		const { room, events, ws } = await startOpen({}, { seq: 41 });
		expect(room.lastSeq).toBe(41);
		ws.message(42);
		ws.message(43);
		expect(seqs(events)).toEqual([42, 43]);
		expect(room.lastSeq).toBe(43);
		expect(FakeWebSocket.instances).toHaveLength(1);
	});

	it("passes the message frame through to the app", async () => {
		const { events, ws } = await startOpen({}, { seq: 0 });
		ws.message(1, { text: "hi" });
		expect(events.message).toEqual([{ type: "message", seq: 1, id: "id-1", from: "alice", data: { text: "hi" }, ts: 1_700_000_000_001 }]);
	});

	it("drops a message whose seq was already delivered", async () => {
		const { events, ws } = await startOpen({}, { seq: 0 });
		ws.message(1);
		ws.message(1);
		ws.message(2);
		ws.message(1);
		expect(seqs(events)).toEqual([1, 2]);
	});

	it("delivers every seq once across a reconnect whose replay overlaps what was delivered", async () => {
		const { events, ws } = await startOpen({}, { seq: 0 });
		ws.message(1);
		ws.message(2);
		ws.message(3);
		ws.serverClose(CloseCode.Abnormal);
		const next = await expectRedialAfter(125);
		expect(next.query.get("after")).toBe("3");
		next.welcome({ seq: 5, resumed: true, replayed: 2 });
		for (const seq of [2, 3, 4, 5, 6]) next.message(seq);
		expect(seqs(events)).toEqual([1, 2, 3, 4, 5, 6]);
	});

	it("holds a message that skips a seq and reconnects with after=lastSeq to have it replayed", async () => {
		const { room, events, ws } = await startOpen({}, { seq: 0 });
		ws.message(1);
		ws.message(3);
		expect(seqs(events)).toEqual([1]);
		expect(ws.closedByClient).toEqual({ code: CloseCode.ClientReconnect, reason: "sequence_gap" });
		expect(events.close).toEqual([{ code: CloseCode.ClientReconnect, reason: "sequence_gap", willReconnect: true, opened: true }]);
		expect(room.state).toBe("reconnecting");
		const next = await expectRedialAfter(125);
		expect(next.query.get("after")).toBe("1");
		next.welcome({ seq: 3, resumed: true, replayed: 2 });
		next.message(2);
		next.message(3);
		next.message(4);
		expect(seqs(events)).toEqual([1, 2, 3, 4]);
		expect(room.lastSeq).toBe(4);
	});

	it("ignores frames from a socket it already gave up on", async () => {
		const { events, ws } = await startOpen({}, { seq: 0 });
		ws.message(2);
		ws.message(1);
		expect(seqs(events)).toEqual([]);
		const next = await expectRedialAfter(125);
		next.welcome({ seq: 2, replayed: 2 });
		next.message(1);
		next.message(2);
		expect(seqs(events)).toEqual([1, 2]);
	});

	it("asks for a replay on the first connect when `after` is given", async () => {
		const { room, events } = start({ after: 7 });
		expect(room.lastSeq).toBe(7);
		await settle();
		const ws = FakeWebSocket.last;
		expect(ws.query.get("after")).toBe("7");
		ws.welcome({ seq: 9, replayed: 2 });
		ws.message(8);
		ws.message(9);
		expect(seqs(events)).toEqual([8, 9]);
	});

	it("reports a gap when history was trimmed and continues with the oldest replayed message", async () => {
		const { room, events } = start({ after: 5 });
		await settle();
		const ws = FakeWebSocket.last;
		ws.welcome({ seq: 120, replayed: 100, gap: true });
		expect(events.gap).toEqual([{ after: 5, next: 21 }]);
		expect(room.lastSeq).toBe(20);
		ws.message(21);
		ws.message(22);
		expect(seqs(events)).toEqual([21, 22]);
		expect(FakeWebSocket.instances).toHaveLength(1);
	});

	it("reports a gap when the server's log is behind the client's lastSeq", async () => {
		const { room, events } = start({ after: 50 });
		await settle();
		FakeWebSocket.last.welcome({ seq: 3, replayed: 0, gap: false });
		expect(events.gap).toEqual([{ after: 50, next: 4 }]);
		expect(room.lastSeq).toBe(3);
	});

	it("emits the welcome before the gap", async () => {
		const { room } = start({ after: 1 });
		const order: string[] = [];
		room.on("welcome", () => order.push("welcome"));
		room.on("gap", () => order.push("gap"));
		await settle();
		FakeWebSocket.last.welcome({ seq: 10, replayed: 3, gap: true });
		expect(order).toEqual(["welcome", "gap"]);
	});

	it("never counts a message in lastSeq that the app did not get because it closed the room", async () => {
		const { room, events, ws } = await startOpen({}, { seq: 0 });
		ws.message(3);
		const next = await expectRedialAfter(125);
		next.welcome({ seq: 3, replayed: 3 });
		room.on("message", (m) => {
			if (m.seq === 2) room.close();
		});
		next.message(1);
		// 2 fills the hole and would release the held 3 in the same turn, but the app closes on 2.
		next.message(2);
		expect(seqs(events)).toEqual([1, 2]);
		expect(room.lastSeq).toBe(2);
	});

	it("passes presence frames through", async () => {
		const { events, ws } = await startOpen();
		ws.receive({ type: "presence", event: "join", sub: "bob", name: "Bob" });
		expect(events.presence).toEqual([{ type: "presence", event: "join", sub: "bob", name: "Bob" }]);
	});

	it("ignores malformed frames, pongs and messages before the welcome", async () => {
		const { events } = start();
		await settle();
		const ws = FakeWebSocket.last;
		ws.message(1);
		ws.receive("not json");
		ws.receive("pong");
		ws.receive({ type: "message", seq: "x" });
		ws.welcome({ seq: 0 });
		ws.message(1);
		expect(seqs(events)).toEqual([1]);
	});
});
