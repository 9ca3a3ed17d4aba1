import { describe, expect, it, vi } from "vitest";
import { BatonError, CloseCode } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { expectRedialAfter, settle, start, startOpen, useFakes } from "./harness.ts";

useFakes();

/** Lets a publish the test does not await reject quietly when the room closes. */
function pending(promise: Promise<unknown>): void {
	promise.catch(() => undefined);
}

/** Resolves to the settled value or the rejection, so a test can look at either once. */
function outcome<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
	return promise.then(
		(value) => ({ value }),
		(error: unknown) => ({ error }),
	);
}

describe("publish", () => {
	it("queues publishes made while connecting and sends them after the welcome", async () => {
		const { room } = start();
		const result = room.publish({ text: "early" }, { id: "early-1" });
		await settle();
		const ws = FakeWebSocket.last;
		ws.open();
		expect(ws.publishes()).toEqual([]);
		ws.welcome();
		expect(ws.publishes()).toEqual([{ type: "publish", id: "early-1", data: { text: "early" } }]);
		ws.ack("early-1", 1);
		await expect(result).resolves.toEqual({ seq: 1, dup: false });
		expect(room.pendingPublishes).toBe(0);
	});

	it("gives each publish its own id of at most 64 characters", async () => {
		const { room, ws } = await startOpen();
		pending(room.publish(1));
		pending(room.publish(2));
		const ids = ws.publishes().map((p) => p.id);
		expect(new Set(ids).size).toBe(2);
		for (const id of ids) expect(id.length).toBeLessThanOrEqual(64);
		room.close();
	});

	it("re-sends every unacked publish after a reconnect, in order, with the same ids", async () => {
		const { room, ws } = await startOpen();
		const a = room.publish("a");
		const b = outcome(room.publish("b"));
		const c = outcome(room.publish("c"));
		const [idA, idB, idC] = ws.publishes().map((p) => p.id);
		ws.ack(idA ?? "", 1);
		ws.serverClose(CloseCode.Abnormal);
		const d = outcome(room.publish("d"));
		const next = await expectRedialAfter(125);
		next.welcome({ resumed: true });
		const resent = next.publishes();
		expect(resent.map((p) => p.data)).toEqual(["b", "c", "d"]);
		expect(resent.slice(0, 2).map((p) => p.id)).toEqual([idB, idC]);
		await expect(a).resolves.toEqual({ seq: 1, dup: false });
		next.ack(idB ?? "", 2, true);
		next.ack(idC ?? "", 3);
		next.ack(resent[2]?.id ?? "", 4);
		expect(await b).toEqual({ value: { seq: 2, dup: true } });
		expect(await c).toEqual({ value: { seq: 3, dup: false } });
		expect(await d).toEqual({ value: { seq: 4, dup: false } });
	});

	it("settles each publish once even when its ack arrives twice", async () => {
		const { room, ws } = await startOpen();
		const settled = vi.fn();
		pending(room.publish("x", { id: "x" }).then(settled));
		ws.ack("x", 9);
		ws.ack("x", 9, true);
		await settle();
		expect(settled).toHaveBeenCalledTimes(1);
		expect(settled).toHaveBeenCalledWith({ seq: 9, dup: false });
	});

	it("rejects a publish the server refused with its error code, leaving the others pending", async () => {
		const { room, events, ws } = await startOpen();
		const bad = outcome(room.publish("bad", { id: "bad" }));
		pending(room.publish("good", { id: "good" }));
		ws.receive({ type: "error", code: "bad_message", message: "nope", id: "bad" });
		const result = await bad;
		expect(result).toEqual({ error: expect.any(BatonError) });
		expect("error" in result && result.error).toMatchObject({ code: "bad_message", message: "nope" });
		expect(room.pendingPublishes).toBe(1);
		expect(events.error).toEqual([]);
	});

	it("rejects a publish the room's onPublish hook refused with the app's own code", async () => {
		const { room, events, ws } = await startOpen();
		const vote = outcome(room.publish({ choice: 9 }, { id: "v1" }));
		ws.receive({ type: "error", code: "invalid_vote", message: "no such choice", id: "v1" });
		const result = await vote;
		expect("error" in result && result.error).toMatchObject({ name: "BatonError", code: "invalid_vote", message: "no such choice", publishId: "v1" });
		expect(room.pendingPublishes).toBe(0);
		expect(events.error).toEqual([]);
	});

	it("surfaces an error frame without a pending id as an error event", async () => {
		const { events, ws } = await startOpen();
		ws.receive({ type: "error", code: "bad_message", message: "unknown frame type" });
		expect(events.error).toEqual([{ code: "bad_message", message: "unknown frame type" }]);
	});

	it("keeps a rate-limited publish and re-sends it with the same id after a short backoff, then paces the rest", async () => {
		const { room, ws } = await startOpen();
		const result = room.publish("x", { id: "x" });
		ws.receive({ type: "error", code: "rate_limited", message: "slow down", id: "x" });
		pending(room.publish("y", { id: "y" }));
		expect(ws.publishes().map((p) => p.id)).toEqual(["x"]);
		// base 250 + full jitter 0.5 · 250
		await vi.advanceTimersByTimeAsync(374);
		expect(ws.publishes().map((p) => p.id)).toEqual(["x"]);
		await vi.advanceTimersByTimeAsync(1);
		// One at a time now: y waits for x's ack.
		expect(ws.publishes().map((p) => p.id)).toEqual(["x", "x"]);
		ws.ack("x", 5);
		await expect(result).resolves.toEqual({ seq: 5, dup: false });
		// …and for the pace (10/s after a refusal) since x went out.
		await vi.advanceTimersByTimeAsync(99);
		expect(ws.publishes().map((p) => p.id)).toEqual(["x", "x"]);
		await vi.advanceTimersByTimeAsync(1);
		expect(ws.publishes().map((p) => p.id)).toEqual(["x", "x", "y"]);
		room.close();
	});

	it("finding 10: re-sends a publish refused room_moving after its retryIn, on the same socket (a migration that rolled back)", async () => {
		const { room, ws } = await startOpen();
		const result = room.publish("x", { id: "x" });
		ws.receive({ type: "error", code: "room_moving", message: "migrating", id: "x", retryIn: 800 });
		await vi.advanceTimersByTimeAsync(799);
		expect(ws.publishes()).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(1);
		expect(ws.publishes().map((p) => p.id)).toEqual(["x", "x"]);
		expect(FakeWebSocket.instances).toHaveLength(1);
		ws.ack("x", 3);
		await expect(result).resolves.toEqual({ seq: 3, dup: false });
	});

	it("finding 10: a rolled-back migration never stalls the publish window: every refused publish is re-sent in order and settles", async () => {
		const { room, ws } = await startOpen();
		const ids = Array.from({ length: 30 }, (_, i) => `p${i}`);
		const results = ids.map((id) => room.publish(id, { id }));
		const firstRound = ws.publishes().map((p) => p.id);
		expect(firstRound.length).toBeGreaterThan(0);
		// The frozen room refuses every one it got; nothing else goes out until retryIn has passed.
		for (const id of firstRound) ws.receive({ type: "error", code: "room_moving", message: "migrating", id, retryIn: 500 });
		await vi.advanceTimersByTimeAsync(499);
		expect(ws.publishes()).toHaveLength(firstRound.length);
		// Unfrozen: each ack lets the next ones go, oldest first, until all 30 are acked.
		await vi.advanceTimersByTimeAsync(1);
		let seq = 0;
		for (let round = 0; room.pendingPublishes > 0 && round < 100; round++) {
			// Only frames sent after the refusals count: the refused copies were never stored.
			const acked = new Set(ids.slice(0, seq));
			const unacked = ws
				.publishes()
				.slice(firstRound.length)
				.filter((p) => !acked.has(p.id));
			const next = unacked[0];
			if (next === undefined) {
				await vi.advanceTimersByTimeAsync(100);
				continue;
			}
			expect(next.id).toBe(ids[seq]);
			seq += 1;
			ws.ack(next.id, seq);
			await settle();
		}
		expect(await Promise.all(results)).toEqual(ids.map((_, i) => ({ seq: i + 1, dup: false })));
		expect(FakeWebSocket.instances).toHaveLength(1);
		// The window is free again: a later publish goes out at once.
		const later = room.publish("later", { id: "later" });
		expect(ws.publishes().at(-1)?.id).toBe("later");
		ws.ack("later", 31);
		await expect(later).resolves.toEqual({ seq: 31, dup: false });
	});

	it("re-sends a room_moving refusal without retryIn (an older server) after 1 s, and after a 4010 on the new home", async () => {
		const { room, ws } = await startOpen();
		const result = room.publish("x", { id: "x" });
		ws.receive({ type: "error", code: "room_moving", message: "migrating", id: "x" });
		await vi.advanceTimersByTimeAsync(999);
		expect(ws.publishes()).toHaveLength(1);
		ws.serverClose(CloseCode.RoomMoved, { home: "weur", retryIn: 0 });
		const next = await expectRedialAfter(0);
		next.welcome({ resumed: true });
		expect(next.publishes().map((p) => p.id)).toEqual(["x"]);
		next.ack("x", 3);
		await expect(result).resolves.toEqual({ seq: 3, dup: false });
	});

	it("drops the publish that caused a 1009 with too_large and re-sends the rest after reconnecting", async () => {
		const { room, ws } = await startOpen();
		const small = outcome(room.publish("s", { id: "small" }));
		const huge = outcome(room.publish("h".repeat(100_000), { id: "huge" }));
		ws.serverClose(CloseCode.MessageTooBig);
		const result = await huge;
		expect("error" in result && result.error).toMatchObject({ code: "too_large", closeCode: 1009 });
		const next = await expectRedialAfter(125);
		next.welcome({ resumed: true });
		expect(next.publishes().map((p) => p.id)).toEqual(["small"]);
		next.ack("small", 1);
		expect(await small).toEqual({ value: { seq: 1, dup: false } });
	});

	it("refuses bad input without sending anything", async () => {
		const { room, ws } = await startOpen();
		const circular: Record<string, unknown> = {};
		circular.self = circular;
		await expect(room.publish(undefined)).rejects.toMatchObject({ code: "bad_message" });
		await expect(room.publish(circular)).rejects.toMatchObject({ code: "bad_message" });
		await expect(room.publish(1, { id: "" })).rejects.toMatchObject({ code: "bad_request" });
		await expect(room.publish(1, { id: "x".repeat(65) })).rejects.toMatchObject({ code: "bad_request" });
		pending(room.publish(1, { id: "same" }));
		await expect(room.publish(2, { id: "same" })).rejects.toMatchObject({ code: "bad_request" });
		expect(ws.publishes().map((p) => p.id)).toEqual(["same"]);
		room.close();
	});

	it("rejects pending publishes with closed on close(), and any publish after it", async () => {
		const { room } = await startOpen();
		const pending = outcome(room.publish("x"));
		room.close();
		expect(await pending).toEqual({ error: expect.objectContaining({ code: "closed" }) });
		await expect(room.publish("y")).rejects.toMatchObject({ code: "closed" });
	});
});
