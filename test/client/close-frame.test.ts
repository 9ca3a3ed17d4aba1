import { describe, expect, it, vi } from "vitest";
import { CLOSING_CHECK_MS } from "../../client/close-watch.ts";
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
		expect(events.close).toEqual([{ code: CloseCode.ServiceRestart, reason: '{"retryIn":1000}', willReconnect: true, opened: true }]);
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

	it("without a readable code nothing is guessed: the platform's close event brings the code, however late", async () => {
		const { room, events, ws } = await startOpen();
		ws.receiveCloseFrame(CloseCode.SessionReplaced, "", { exposesCode: false });
		await vi.advanceTimersByTimeAsync(10_000);
		expect(events.close).toEqual([]);
		expect(FakeWebSocket.instances).toHaveLength(1);
		// A guessed 1006 would have resumed the session and taken it back from the newer connection.
		ws.serverClose(CloseCode.SessionReplaced);
		expect(events.close).toEqual([{ code: CloseCode.SessionReplaced, reason: "", willReconnect: false, opened: true }]);
		expect(room.state).toBe("closed");
		expect(vi.getTimerCount()).toBe(0);
	});
});

describe("the SDK's own close", () => {
	it("is not mistaken for the server's: reconnect() dials once, and the late close event is ignored", async () => {
		const { room, events, ws } = await startOpen();
		room.reconnect();
		expect(ws.closedByClient).toEqual({ code: CloseCode.ClientReconnect, reason: "reconnect_requested" });
		// Many checks' worth, short of the new socket's connect timeout.
		await vi.advanceTimersByTimeAsync(CLOSING_CHECK_MS * 8);
		expect(events.close).toEqual([{ code: CloseCode.ClientReconnect, reason: "reconnect_requested", willReconnect: true, opened: true }]);
		expect(FakeWebSocket.instances).toHaveLength(2);
	});

	it("close() leaves no check behind, even with the socket still CLOSING", async () => {
		const { room, ws } = await startOpen();
		ws.receiveCloseFrame(CloseCode.ServiceRestart, { retryIn: 500 }, { exposesCode: false });
		room.close();
		expect(vi.getTimerCount()).toBe(0);
	});
});
