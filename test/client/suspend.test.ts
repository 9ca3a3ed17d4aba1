import { describe, expect, it, vi } from "vitest";
import { CloseCode } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { FakeNetwork, settle, start, startOpen, useFakes } from "./harness.ts";

useFakes();

describe("suspend() / resume()", () => {
	it("suspend() drops the open socket with 4000 (a loss, not a goodbye) and dials no more, whatever the time", async () => {
		const { room, events, ws } = await startOpen({}, { resume: "r-1" });
		room.suspend();
		expect(room.suspended).toBe(true);
		expect(ws.closedByClient).toEqual({ code: CloseCode.ClientReconnect, reason: "suspended" });
		expect(room.state).toBe("reconnecting");
		expect(events.close).toEqual([{ code: CloseCode.ClientReconnect, reason: "suspended", willReconnect: true, opened: true }]);
		await vi.advanceTimersByTimeAsync(10 * 60_000);
		expect(FakeWebSocket.instances).toHaveLength(1);
		expect(vi.getTimerCount()).toBe(0);
	});

	it("resume() dials at once and resumes the session after lastSeq; what was published meanwhile is sent on the new socket", async () => {
		const { room, ws } = await startOpen({}, { resume: "r-1", seq: 0 });
		ws.message(1);
		room.suspend();
		const queued = room.publish("typed offline");
		await settle();
		expect(room.pending).toEqual([{ id: expect.any(String), data: "typed offline", sent: false, restored: false }]);
		room.resume();
		expect(room.suspended).toBe(false);
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(2);
		const second = FakeWebSocket.last;
		expect(second.query.get("resume")).toBe("r-1");
		expect(second.query.get("after")).toBe("1");
		second.welcome({ resume: "r-2", seq: 3, resumed: true, replayed: 2 });
		const [publish] = second.publishes();
		expect(publish?.data).toBe("typed offline");
		second.ack(publish?.id ?? "", 4);
		await expect(queued).resolves.toEqual({ seq: 4, dup: false });
	});

	it("a backoff wait pending at suspend() is cancelled, and `online` or reconnect() do not dial while suspended", async () => {
		const network = new FakeNetwork();
		const { room, ws } = await startOpen({ network, backoff: { base: 1_000, cap: 1_000 } }, { resume: "r-1" });
		ws.serverClose(CloseCode.Abnormal);
		expect(vi.getTimerCount()).toBe(1);
		room.suspend();
		expect(vi.getTimerCount()).toBe(0);
		network.dispatch("online");
		room.reconnect();
		await vi.advanceTimersByTimeAsync(60_000);
		expect(FakeWebSocket.instances).toHaveLength(1);
		room.resume();
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(2);
	});

	it("a dial still waiting for its token when suspend() is called does not open a socket", async () => {
		let release: (token: string) => void = () => {};
		const { room } = start({ token: () => new Promise<string>((resolve) => (release = resolve)) });
		await settle();
		room.suspend();
		release("token-1");
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(0);
		room.resume();
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(1);
	});

	it("is a no-op once closed, resume() without suspend() changes nothing, and close() while suspended is a plain close", async () => {
		const { room, events, ws } = await startOpen();
		room.resume();
		expect(FakeWebSocket.instances).toHaveLength(1);
		expect(ws.closedByClient).toBeNull();
		room.suspend();
		room.suspend();
		expect(events.close).toHaveLength(1);
		room.close();
		expect(room.state).toBe("closed");
		expect(events.close.at(-1)).toEqual({ code: CloseCode.Normal, reason: "", willReconnect: false, opened: false });
		room.resume();
		await vi.advanceTimersByTimeAsync(60_000);
		expect(FakeWebSocket.instances).toHaveLength(1);
		expect(vi.getTimerCount()).toBe(0);
	});
});
