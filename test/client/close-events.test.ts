import { describe, expect, it } from "vitest";
import { CloseCode } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { expectRedialAfter, settle, start, startOpen, useFakes } from "./harness.ts";

useFakes();

describe("close and dial_failed events", () => {
	it("an outage of many failed dials is one close (the open socket) and one dial_failed per dial", async () => {
		const { room, events, ws } = await startOpen({}, { resume: "r-1" });
		ws.serverClose(CloseCode.Abnormal);
		let delay = 125;
		for (let i = 0; i < 4; i++) {
			const dial = await expectRedialAfter(delay);
			dial.serverClose(CloseCode.Abnormal);
			delay *= 2;
		}
		expect(events.close).toEqual([{ code: CloseCode.Abnormal, reason: "", willReconnect: true, opened: true }]);
		expect(events.dial_failed).toEqual([
			{ code: 1006, reason: "", attempt: 2, retryIn: 250 },
			{ code: 1006, reason: "", attempt: 3, retryIn: 500 },
			{ code: 1006, reason: "", attempt: 4, retryIn: 1_000 },
			{ code: 1006, reason: "", attempt: 5, retryIn: 2_000 },
		]);
		const back = await expectRedialAfter(2_000);
		back.welcome({ resumed: true });
		back.serverClose(CloseCode.Abnormal);
		expect(events.close).toHaveLength(2);
		expect(room.state).toBe("reconnecting");
	});

	it("a first connect that keeps failing fires dial_failed only, until close() ends it with one close (opened: false)", async () => {
		const { room, events } = start();
		await settle();
		FakeWebSocket.last.serverClose(CloseCode.Abnormal);
		await expectRedialAfter(125);
		FakeWebSocket.last.serverClose(CloseCode.Abnormal);
		expect(events.close).toEqual([]);
		expect(events.dial_failed).toHaveLength(2);
		room.close();
		expect(events.close).toEqual([{ code: CloseCode.Normal, reason: "", willReconnect: false, opened: false }]);
	});

	it("a refused first dial is one close with opened: false and willReconnect: false", async () => {
		const { events } = start();
		await settle();
		FakeWebSocket.last.serverClose(CloseCode.Forbidden, { code: "forbidden" });
		expect(events.dial_failed).toEqual([]);
		expect(events.close).toEqual([{ code: CloseCode.Forbidden, reason: '{"code":"forbidden"}', willReconnect: false, opened: false }]);
	});
});
