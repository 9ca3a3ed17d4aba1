import { describe, expect, it, vi } from "vitest";
import { CloseCode, connect } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { settle, start, startOpen, useFakes } from "./harness.ts";

useFakes();

describe("close()", () => {
	it("closes the socket with 1000, ends in closed and leaves no timer behind", async () => {
		const { room, events, ws } = await startOpen({}, { heartbeat: { interval: 1_000, timeout: 3_000 } });
		expect(vi.getTimerCount()).toBeGreaterThan(0);
		room.close();
		expect(vi.getTimerCount()).toBe(0);
		expect(ws.closedByClient?.code).toBe(CloseCode.Normal);
		expect(room.state).toBe("closed");
		expect(events.state.at(-1)).toEqual({ from: "open", to: "closed" });
		expect(events.close).toEqual([{ code: CloseCode.Normal, reason: "", willReconnect: false, opened: true }]);
	});

	it("cancels a pending reconnect and never dials again", async () => {
		const { room, ws } = await startOpen();
		ws.serverClose(CloseCode.InternalError);
		expect(vi.getTimerCount()).toBe(1);
		room.close();
		expect(vi.getTimerCount()).toBe(0);
		await vi.advanceTimersByTimeAsync(60_000);
		expect(FakeWebSocket.instances).toHaveLength(1);
	});

	it("clears a pending rate-limit retry and the connect timeout", async () => {
		const { room, ws } = await startOpen();
		room.publish("x", { id: "x" }).catch(() => undefined);
		ws.receive({ type: "error", code: "rate_limited", message: "slow", id: "x" });
		room.close();
		expect(vi.getTimerCount()).toBe(0);

		const connecting = start();
		await settle();
		expect(vi.getTimerCount()).toBe(1);
		connecting.room.close();
		expect(vi.getTimerCount()).toBe(0);
	});

	it("does not dial when closed while the token function is still running", async () => {
		let resolveToken: (token: string) => void = () => undefined;
		const token = () =>
			new Promise<string>((resolve) => {
				resolveToken = resolve;
			});
		const { room } = start({ token });
		await settle();
		room.close();
		resolveToken("jwt");
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(0);
		expect(vi.getTimerCount()).toBe(0);
	});

	it("is idempotent: a second call emits nothing", async () => {
		const { room, events } = await startOpen();
		room.close();
		room.close();
		await settle();
		expect(events.close).toHaveLength(1);
		expect(events.state.filter((s) => s.to === "closed")).toHaveLength(1);
	});

	it("ignores the socket's own late close event", async () => {
		const { room, events } = await startOpen();
		room.close();
		// FakeWebSocket delivers the close event from a microtask, as real sockets do.
		await settle();
		expect(events.close).toHaveLength(1);
		expect(events.error).toEqual([]);
		expect(FakeWebSocket.instances).toHaveLength(1);
	});

	it("works before the first dial: no socket is ever created", async () => {
		const { room } = start();
		room.close();
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(0);
		expect(room.state).toBe("closed");
	});
});

describe("connect()", () => {
	it("throws at once on options that could never work", () => {
		const base = { url: "http://h", room: "lobby", token: "t", WebSocket: FakeWebSocket };
		expect(() => connect({ ...base, room: "bad room!" })).toThrow(TypeError);
		expect(() => connect({ ...base, url: "not a url" })).toThrow(TypeError);
		expect(() => connect({ ...base, url: undefined })).toThrow(TypeError);
		expect(() => connect({ ...base, after: -1 })).toThrow(TypeError);
	});

	it("throws when there is neither a WebSocket option nor a global WebSocket", () => {
		vi.stubGlobal("WebSocket", undefined);
		expect(() => connect({ url: "http://h", room: "lobby", token: "t" })).toThrow(/WebSocket/);
	});

	it("uses the global WebSocket when no constructor is passed", async () => {
		vi.stubGlobal("WebSocket", FakeWebSocket);
		const room = connect({ url: "http://h", room: "lobby", token: "t" });
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(1);
		room.close();
	});

	it("delivers the first state change to handlers attached right after connect()", async () => {
		const { events } = await startOpen();
		expect(events.state).toEqual([{ from: "connecting", to: "open" }]);
	});

	it("unsubscribes a handler with the function on() returns", async () => {
		const { room, ws } = await startOpen({}, { seq: 0 });
		const handler = vi.fn();
		const off = room.on("message", handler);
		ws.message(1);
		off();
		ws.message(2);
		expect(handler).toHaveBeenCalledTimes(1);
	});

	it("reports a WebSocket constructor that throws as a failed connect and retries", async () => {
		let calls = 0;
		class Flaky extends FakeWebSocket {
			constructor(url: string, protocols?: string | string[]) {
				calls++;
				if (calls === 1) throw new Error("boom");
				super(url, protocols);
			}
		}
		const room = connect({ url: "http://h", room: "lobby", token: "t", WebSocket: Flaky });
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(0);
		await vi.advanceTimersByTimeAsync(125);
		expect(FakeWebSocket.instances).toHaveLength(1);
		room.close();
	});
});

describe("reconnect()", () => {
	it("drops an open socket and resumes at once on the same endpoint", async () => {
		const { room, events, ws } = await startOpen({}, { resume: "r-1", seq: 3 });
		room.reconnect();
		// Replacing the socket is not a goodbye: 4000, so the room keeps the presence grace (§12).
		expect(ws.closedByClient).toEqual({ code: CloseCode.ClientReconnect, reason: "reconnect_requested" });
		expect(events.close).toEqual([{ code: CloseCode.ClientReconnect, reason: "reconnect_requested", willReconnect: true, opened: true }]);
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(2);
		expect(FakeWebSocket.last.query.get("resume")).toBe("r-1");
		expect(FakeWebSocket.last.query.get("after")).toBe("3");
	});

	it("cuts a pending backoff wait short", async () => {
		const { room, ws } = await startOpen({ backoff: { base: 5_000, cap: 5_000 } });
		ws.serverClose(CloseCode.InternalError);
		room.reconnect();
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(2);
		expect(vi.getTimerCount()).toBe(1);
	});

	it("does nothing once the room is closed", async () => {
		const { room } = await startOpen();
		room.close();
		room.reconnect();
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(1);
		expect(vi.getTimerCount()).toBe(0);
	});
});
