import { describe, expect, it, vi } from "vitest";
import { CLOSING_CHECK_MS, CLOSING_GRACE_MS } from "../../client/close-watch.ts";
import { CloseCode } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { startOpen, useFakes } from "./harness.ts";

useFakes();

/**
 * A server close whose TCP connection lingers (docs/protocol.md §16): the close frame arrives, the
 * socket turns CLOSING, and the platform's `close` event comes only later, or never.
 */
describe("a close frame without a close event", () => {
	it("`ws` keeps the code it read: reported within a check, and retryIn counts from then", async () => {
		const { room, events, ws } = await startOpen({}, { resume: "r-1" });
		ws.receiveCloseFrame(CloseCode.ServiceRestart, { retryIn: 1_000 }, { exposesCode: true });
		await vi.advanceTimersByTimeAsync(CLOSING_CHECK_MS);
		expect(events.close).toEqual([{ code: CloseCode.ServiceRestart, reason: '{"retryIn":1000}', willReconnect: true }]);
		expect(room.state).toBe("reconnecting");
		// retryIn plus the small jitter (125 ms with Math.random at 0.5).
		await vi.advanceTimersByTimeAsync(1_124);
		expect(FakeWebSocket.instances).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(1);
		expect(FakeWebSocket.instances).toHaveLength(2);
		expect(FakeWebSocket.last.query.get("resume")).toBe("r-1");
		// The runtime lets go of the old connection ~10 s later: nothing more happens.
		ws.serverClose(CloseCode.ServiceRestart, { retryIn: 1_000 });
		expect(events.close).toHaveLength(1);
		expect(FakeWebSocket.instances).toHaveLength(2);
	});

	it("reports 4010 before the heartbeat deadline could say 4008", async () => {
		const { events, ws } = await startOpen({}, { heartbeat: { interval: 1_000, timeout: 3_000 } });
		ws.receiveCloseFrame(CloseCode.RoomMoved, { home: "weur", retryIn: 0 }, { exposesCode: true });
		await vi.advanceTimersByTimeAsync(3_000);
		expect(events.close.map((c) => c.code)).toEqual([CloseCode.RoomMoved]);
		expect(FakeWebSocket.instances).toHaveLength(2);
	});

	it("a stop code read from the frame stops the room", async () => {
		const { room, events, ws } = await startOpen();
		ws.receiveCloseFrame(CloseCode.Forbidden, { code: "forbidden" }, { exposesCode: true });
		await vi.advanceTimersByTimeAsync(CLOSING_CHECK_MS);
		expect(room.state).toBe("closed");
		expect(events.error).toEqual([{ code: "forbidden", message: expect.any(String), closeCode: CloseCode.Forbidden }]);
		expect(vi.getTimerCount()).toBe(0);
	});

	it("without a readable code, the platform's close event still wins within the grace (Chromium: 2 s)", async () => {
		const { events, ws } = await startOpen();
		ws.receiveCloseFrame(CloseCode.ServiceRestart, { retryIn: 500 }, { exposesCode: false });
		await vi.advanceTimersByTimeAsync(2_000);
		expect(events.close).toEqual([]);
		ws.serverClose(CloseCode.ServiceRestart, { retryIn: 500 });
		expect(events.close).toEqual([{ code: CloseCode.ServiceRestart, reason: '{"retryIn":500}', willReconnect: true }]);
	});

	it("without a readable code and without a close event, 1006 after the grace, then a backoff redial", async () => {
		const { events, ws } = await startOpen();
		ws.receiveCloseFrame(CloseCode.ServiceRestart, { retryIn: 500 }, { exposesCode: false });
		await vi.advanceTimersByTimeAsync(CLOSING_GRACE_MS);
		expect(events.close).toEqual([]);
		await vi.advanceTimersByTimeAsync(CLOSING_CHECK_MS);
		expect(events.close).toEqual([{ code: CloseCode.Abnormal, reason: "", willReconnect: true }]);
		await vi.advanceTimersByTimeAsync(125);
		expect(FakeWebSocket.instances).toHaveLength(2);
	});
});

describe("the SDK's own close", () => {
	it("is not mistaken for the server's: reconnect() dials once, and the late close event is ignored", async () => {
		const { room, events, ws } = await startOpen();
		room.reconnect();
		expect(ws.closedByClient).toEqual({ code: CloseCode.Normal, reason: "reconnect_requested" });
		await vi.advanceTimersByTimeAsync(CLOSING_GRACE_MS * 2);
		expect(events.close).toEqual([{ code: CloseCode.Normal, reason: "reconnect_requested", willReconnect: true }]);
		expect(FakeWebSocket.instances).toHaveLength(2);
	});

	it("close() leaves no check behind, even with the socket still CLOSING", async () => {
		const { room, ws } = await startOpen();
		ws.receiveCloseFrame(CloseCode.ServiceRestart, { retryIn: 500 }, { exposesCode: false });
		room.close();
		expect(vi.getTimerCount()).toBe(0);
	});
});
