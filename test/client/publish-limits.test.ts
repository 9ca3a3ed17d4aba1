import { describe, expect, it, vi } from "vitest";
import { CloseCode, connect, DEFAULT_MAX_BUFFERED } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { expectRedialAfter, settle, startOpen, useFakes } from "./harness.ts";

useFakes();

describe("maxBuffered", () => {
	it("refuses a publish with `outbox_full` once that many wait for their ack, and takes one again after an ack", async () => {
		const { room, ws } = await startOpen({ maxBuffered: 2 });
		const first = room.publish(1, { id: "a" });
		room.publish(2, { id: "b" }).catch(() => undefined);
		const refused = await room.publish(3, { id: "c" }).catch((e: unknown) => e);
		expect(refused).toMatchObject({ name: "BatonError", code: "outbox_full", publishId: "c", maybeStored: false });
		expect(ws.publishes().map((p) => p.id)).toEqual(["a", "b"]);
		ws.ack("a", 1);
		await first;
		const again = room.publish(3, { id: "c" });
		expect(ws.publishes().map((p) => p.id)).toEqual(["a", "b", "c"]);
		ws.ack("b", 2);
		ws.ack("c", 3);
		await expect(again).resolves.toEqual({ seq: 3, dup: false });
	});

	it("counts publishes queued while offline", async () => {
		const { room, ws } = await startOpen({ maxBuffered: 3 });
		ws.serverClose(CloseCode.Abnormal);
		for (const id of ["a", "b", "c"]) room.publish(id, { id }).catch(() => undefined);
		await expect(room.publish("d", { id: "d" })).rejects.toMatchObject({ code: "outbox_full" });
		expect(room.pendingPublishes).toBe(3);
	});

	it("defaults to 1000 and accepts Infinity", async () => {
		expect(DEFAULT_MAX_BUFFERED).toBe(1000);
		const { room } = await startOpen({ maxBuffered: Number.POSITIVE_INFINITY });
		for (let i = 0; i < 1001; i++) room.publish(i).catch(() => undefined);
		expect(room.pendingPublishes).toBe(1001);
		room.close();
	});

	it("throws at connect() for a value that could never work", () => {
		const base = { url: "http://h", room: "lobby", token: "t", WebSocket: FakeWebSocket };
		for (const maxBuffered of [0, -1, 1.5, Number.NaN]) expect(() => connect({ ...base, maxBuffered })).toThrow(TypeError);
	});
});

describe("publishTimeout", () => {
	it("rejects a publish never sent (offline) after exactly the timeout, and it is not sent after the reconnect", async () => {
		const { room, ws } = await startOpen({ publishTimeout: 2_000, backoff: { base: 10_000, cap: 10_000 } }, { resume: "r-1" });
		ws.serverClose(CloseCode.Abnormal);
		let error: unknown = null;
		room.publish("late", { id: "late" }).catch((e: unknown) => {
			error = e;
		});
		await vi.advanceTimersByTimeAsync(1_999);
		expect(error).toBeNull();
		await vi.advanceTimersByTimeAsync(1);
		expect(error).toMatchObject({ name: "BatonError", code: "publish_timeout", publishId: "late", maybeStored: false });
		expect(room.pendingPublishes).toBe(0);
		await vi.advanceTimersByTimeAsync(5_000);
		const next = FakeWebSocket.last;
		expect(next).not.toBe(ws);
		next.welcome({ resumed: true });
		expect(next.publishes()).toEqual([]);
	});

	it("rejects a sent but unacknowledged publish with maybeStored, and never re-sends it", async () => {
		const { room, ws } = await startOpen({ publishTimeout: 1_000 }, { resume: "r-1" });
		const failure = room.publish("x", { id: "x" }).catch((e: unknown) => e);
		await vi.advanceTimersByTimeAsync(1_000);
		expect(await failure).toMatchObject({ code: "publish_timeout", maybeStored: true });
		ws.serverClose(CloseCode.Abnormal);
		const next = await expectRedialAfter(125);
		next.welcome({ resumed: true });
		expect(next.publishes()).toEqual([]);
	});

	it("a per-publish timeout overrides the default, and an ack in time clears the timer", async () => {
		const { room, ws } = await startOpen({ publishTimeout: 60_000 }, { heartbeat: { interval: 0, timeout: 0 } });
		// The connection's own timers (its close watch), before any publish.
		const baseline = vi.getTimerCount();
		const quick = room.publish("q", { id: "q", timeout: 500 }).catch((e: unknown) => e);
		const acked = room.publish("a", { id: "a" });
		ws.ack("a", 1);
		await expect(acked).resolves.toEqual({ seq: 1, dup: false });
		await vi.advanceTimersByTimeAsync(500);
		expect(await quick).toMatchObject({ code: "publish_timeout" });
		// Both publishes' guards are gone.
		expect(vi.getTimerCount()).toBe(baseline);
	});

	it("refuses a timeout that is not a positive number of milliseconds", async () => {
		const { room } = await startOpen();
		await expect(room.publish("x", { timeout: 0 })).rejects.toMatchObject({ code: "bad_request" });
		await expect(room.publish("x", { timeout: Number.NaN })).rejects.toMatchObject({ code: "bad_request" });
		const base = { url: "http://h", room: "lobby", token: "t", WebSocket: FakeWebSocket };
		expect(() => connect({ ...base, publishTimeout: -5 })).toThrow(TypeError);
		await settle();
	});
});
