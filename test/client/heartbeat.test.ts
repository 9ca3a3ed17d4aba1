import { describe, expect, it, vi } from "vitest";
import { CloseCode } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { expectRedialAfter, settle, start, startOpen, useFakes } from "./harness.ts";

const heartbeat = { interval: 1_000, timeout: 3_000 };

useFakes();

describe("heartbeat", () => {
	it("sends a ping text frame on the welcome and then every heartbeat.interval", async () => {
		const { ws } = await startOpen({}, { heartbeat });
		expect(ws.pings()).toBe(1);
		await vi.advanceTimersByTimeAsync(999);
		expect(ws.pings()).toBe(1);
		await vi.advanceTimersByTimeAsync(1);
		expect(ws.pings()).toBe(2);
		ws.receive("pong");
		await vi.advanceTimersByTimeAsync(1_000);
		expect(ws.pings()).toBe(3);
	});

	it("does not ping before the welcome", async () => {
		start();
		await settle();
		FakeWebSocket.last.open();
		await vi.advanceTimersByTimeAsync(5_000);
		expect(FakeWebSocket.last.pings()).toBe(0);
	});

	it("stays connected while pongs keep arriving", async () => {
		const { room, ws } = await startOpen({}, { heartbeat });
		for (let second = 0; second < 20; second++) {
			await vi.advanceTimersByTimeAsync(1_000);
			ws.receive("pong");
		}
		expect(room.state).toBe("open");
		expect(FakeWebSocket.instances).toHaveLength(1);
	});

	it("counts any frame, not only pongs, as a sign of life", async () => {
		const { room, ws } = await startOpen({}, { heartbeat: { interval: 0, timeout: 3_000 }, seq: 0 });
		for (let seq = 1; seq <= 10; seq++) {
			await vi.advanceTimersByTimeAsync(2_000);
			ws.message(seq);
		}
		expect(room.state).toBe("open");
		expect(ws.pings()).toBe(0);
	});

	it("gives up on a silent socket after heartbeat.timeout: closes it, reports 4008 and reconnects with backoff", async () => {
		const { room, events, ws } = await startOpen({}, { heartbeat, seq: 0 });
		await vi.advanceTimersByTimeAsync(2_999);
		expect(room.state).toBe("open");
		await vi.advanceTimersByTimeAsync(1);
		expect(room.state).toBe("reconnecting");
		expect(ws.closedByClient).toEqual({ code: CloseCode.ClientReconnect, reason: "heartbeat_timeout" });
		expect(events.close).toEqual([{ code: CloseCode.HeartbeatTimeout, reason: "heartbeat_timeout", willReconnect: true, opened: true }]);
		const next = await expectRedialAfter(125);
		expect(next.query.get("after")).toBe("0");
	});

	it("measures the timeout from the last frame", async () => {
		const { room, ws } = await startOpen({}, { heartbeat });
		await vi.advanceTimersByTimeAsync(2_000);
		ws.receive("pong");
		await vi.advanceTimersByTimeAsync(2_999);
		expect(room.state).toBe("open");
		await vi.advanceTimersByTimeAsync(1);
		expect(room.state).toBe("reconnecting");
	});

	it("ignores the late close event of a socket it timed out", async () => {
		const { events, ws } = await startOpen({}, { heartbeat });
		await vi.advanceTimersByTimeAsync(3_000);
		ws.serverClose(CloseCode.Forbidden);
		await settle();
		expect(events.close).toHaveLength(1);
		expect(events.error).toEqual([]);
	});

	it("gives up on a connect that gets no welcome within connectTimeout", async () => {
		const { events } = start({ connectTimeout: 5_000 });
		await settle();
		const ws = FakeWebSocket.last;
		ws.open();
		await vi.advanceTimersByTimeAsync(5_000);
		expect(ws.closedByClient).toEqual({ code: CloseCode.ClientReconnect, reason: "connect_timeout" });
		// A dial that never got its welcome is a `dial_failed`, not a `close`.
		expect(events.close).toEqual([]);
		expect(events.dial_failed).toEqual([{ code: CloseCode.Abnormal, reason: "connect_timeout", attempt: 1, retryIn: 125 }]);
		await expectRedialAfter(125);
	});
});
