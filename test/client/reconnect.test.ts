import { describe, expect, it, vi } from "vitest";
import { CloseCode } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { expectRedialAfter, settle, start, startOpen, useFakes } from "./harness.ts";

// Math.random pinned to 0.5: backoff attempt n waits 0.5 · min(10 000, 250 · 2^n) ms.
useFakes();

describe("connecting", () => {
	it("dials the room's ws URL and offers baton.v1 with the token as baton.auth.<jwt>, never in the URL", async () => {
		start({ url: "https://rooms.example/base" });
		await settle();
		const ws = FakeWebSocket.last;
		expect(`${ws.url.origin}${ws.url.pathname}`).toBe("wss://rooms.example/base/v1/rooms/lobby/ws");
		expect(ws.token).toBe("token-1");
		expect(ws.query.get("token")).toBeNull();
		expect(ws.query.has("resume")).toBe(false);
		expect(ws.query.has("after")).toBe(false);
		expect(ws.protocols).toEqual(["baton.v1", "baton.auth.token-1"]);
	});

	it("becomes open on welcome and emits the welcome", async () => {
		const { room, events } = await startOpen({}, { session: "s9" });
		expect(room.state).toBe("open");
		expect(events.state).toEqual([{ from: "connecting", to: "open" }]);
		expect(events.welcome.map((w) => w.session)).toEqual(["s9"]);
	});

	it("stays connecting while first attempts fail and reports reconnecting only after a session was open", async () => {
		const { room, events } = start();
		await settle();
		FakeWebSocket.last.serverClose(CloseCode.Abnormal);
		expect(room.state).toBe("connecting");
		(await expectRedialAfter(125)).welcome();
		FakeWebSocket.last.serverClose(CloseCode.Abnormal);
		expect(room.state).toBe("reconnecting");
		expect(events.state.map((s) => s.to)).toEqual(["open", "reconnecting"]);
	});

	it("resumes with the last welcome's resume token and after=lastSeq", async () => {
		const { ws } = await startOpen({}, { resume: "r-1", seq: 0 });
		ws.message(1);
		ws.message(2);
		ws.serverClose(CloseCode.ServiceRestart, { retryIn: 0 });
		const second = await expectRedialAfter(125);
		expect(second.query.get("resume")).toBe("r-1");
		expect(second.query.get("after")).toBe("2");
		second.welcome({ resume: "r-2", seq: 2, resumed: true });
		second.serverClose(CloseCode.ServiceRestart, { retryIn: 0 });
		const third = await expectRedialAfter(125);
		expect(third.query.get("resume")).toBe("r-2");
	});
});

describe("close codes that stop (CONTRACT §6)", () => {
	it.each([
		[CloseCode.UnsupportedData, "", "unsupported_data"],
		[CloseCode.PolicyViolation, "", "policy_violation"],
		[CloseCode.Forbidden, '{"code":"forbidden"}', "forbidden"],
		[CloseCode.SessionReplaced, "", "session_replaced"],
		[CloseCode.BadRequest, '{"code":"bad_room"}', "bad_room"],
	])("closes for good on %i, surfaces an error and rejects pending publishes", async (code, reason, errorCode) => {
		const { room, events, ws } = await startOpen();
		const failure = room.publish("pending").catch((error: unknown) => error);
		ws.serverClose(code, reason);
		expect(room.state).toBe("closed");
		expect(events.error).toEqual([{ code: errorCode, message: expect.any(String), closeCode: code }]);
		expect(events.close).toEqual([{ code, reason, willReconnect: false, opened: true }]);
		expect(await failure).toMatchObject({ name: "BatonError", code: errorCode, closeCode: code });
		await vi.advanceTimersByTimeAsync(60_000);
		expect(FakeWebSocket.instances).toHaveLength(1);
		expect(vi.getTimerCount()).toBe(0);
	});

	it("closes for good on a server 1000 without an error event", async () => {
		const { room, events, ws } = await startOpen();
		const failure = room.publish("pending").catch((error: unknown) => error);
		ws.serverClose(CloseCode.Normal);
		expect(room.state).toBe("closed");
		expect(events.error).toEqual([]);
		expect(await failure).toMatchObject({ code: "closed_by_server" });
		await vi.advanceTimersByTimeAsync(60_000);
		expect(FakeWebSocket.instances).toHaveLength(1);
	});

	it("stops on a refused upgrade (open, then 4003 before any welcome)", async () => {
		const { room, events } = start();
		await settle();
		FakeWebSocket.last.open();
		FakeWebSocket.last.serverClose(CloseCode.Forbidden, { code: "origin_not_allowed" });
		expect(room.state).toBe("closed");
		expect(events.error.map((e) => e.code)).toEqual(["origin_not_allowed"]);
		await vi.advanceTimersByTimeAsync(60_000);
		expect(FakeWebSocket.instances).toHaveLength(1);
	});
});

describe("close codes that resume (CONTRACT §6)", () => {
	it.each([[CloseCode.Abnormal], [CloseCode.InternalError], [CloseCode.HeartbeatTimeout], [CloseCode.RateLimited], [4321]])(
		"reconnects after full-jitter backoff on %i",
		async (code) => {
			const { room, events, ws } = await startOpen();
			ws.serverClose(code);
			expect(room.state).toBe("reconnecting");
			expect(events.close).toEqual([{ code, reason: "", willReconnect: true, opened: true }]);
			await expectRedialAfter(125);
		},
	);

	it("doubles the backoff window per failed attempt, caps it, and resets it after a welcome", async () => {
		const { ws } = await startOpen({ backoff: { base: 100, cap: 1_000 } });
		ws.serverClose(CloseCode.Abnormal);
		for (const delay of [50, 100, 200, 400, 500, 500]) {
			const next = await expectRedialAfter(delay);
			next.serverClose(CloseCode.Abnormal);
		}
		(await expectRedialAfter(500)).welcome();
		FakeWebSocket.last.serverClose(CloseCode.InternalError);
		await expectRedialAfter(50);
	});

	it("keeps every backoff wait below the cap when Math.random is at its maximum", async () => {
		vi.spyOn(Math, "random").mockReturnValue(0.999_999);
		const { ws } = await startOpen({ backoff: { base: 100, cap: 1_000 } });
		ws.serverClose(CloseCode.Abnormal);
		for (let attempt = 0; attempt < 8; attempt++) {
			const before = FakeWebSocket.instances.length;
			await vi.advanceTimersByTimeAsync(1_000);
			expect(FakeWebSocket.instances).toHaveLength(before + 1);
			FakeWebSocket.last.serverClose(CloseCode.Abnormal);
		}
	});

	it("resumes after a short jitter on 1001", async () => {
		const { ws } = await startOpen();
		ws.serverClose(CloseCode.GoingAway);
		await expectRedialAfter(125);
	});

	it("honours retryIn from the close reason on 1012, plus a small jitter", async () => {
		const { ws } = await startOpen();
		ws.serverClose(CloseCode.ServiceRestart, { retryIn: 3_000 });
		await expectRedialAfter(3_125);
	});

	it("waits retryIn plus backoff on 1013 room_full", async () => {
		const { ws } = await startOpen();
		ws.serverClose(CloseCode.TryAgainLater, { code: "room_full", retryIn: 1_000 });
		await expectRedialAfter(1_125);
	});

	it("reconnects at once and resumes on 4010 room moved", async () => {
		const { ws } = await startOpen({}, { resume: "r-1" });
		ws.serverClose(CloseCode.RoomMoved, { home: "weur", retryIn: 0 });
		const next = await expectRedialAfter(0);
		expect(next.query.get("resume")).toBe("r-1");
	});
});

describe("4001 unauthorized", () => {
	it("calls the token function again and reconnects at once with the new token", async () => {
		const token = vi.fn<() => Promise<string>>().mockResolvedValueOnce("old").mockResolvedValueOnce("new");
		const { ws } = await startOpen({ token });
		expect(ws.token).toBe("old");
		ws.serverClose(CloseCode.Unauthorized, { code: "unauthorized" });
		const next = await expectRedialAfter(0);
		expect(token).toHaveBeenCalledTimes(2);
		expect(next.token).toBe("new");
	});

	it("reuses the cached token on other reconnects", async () => {
		const token = vi.fn(async () => "jwt");
		const { ws } = await startOpen({ token });
		ws.serverClose(CloseCode.Abnormal);
		await expectRedialAfter(125);
		expect(token).toHaveBeenCalledTimes(1);
	});

	it("stops with an unauthorized error when the refreshed token is refused too, before any welcome", async () => {
		const token = vi.fn(async () => "still-bad");
		const { room, events } = start({ token });
		await settle();
		FakeWebSocket.last.serverClose(CloseCode.Unauthorized, { code: "unauthorized" });
		await settle();
		FakeWebSocket.last.serverClose(CloseCode.Unauthorized, { code: "unauthorized" });
		expect(room.state).toBe("closed");
		expect(token).toHaveBeenCalledTimes(2);
		expect(events.error.map((e) => e.code)).toEqual(["unauthorized"]);
		await vi.advanceTimersByTimeAsync(60_000);
		expect(FakeWebSocket.instances).toHaveLength(2);
	});

	it("allows another refresh once a welcome came in between", async () => {
		const token = vi.fn(async () => "jwt");
		const { room, ws } = await startOpen({ token });
		ws.serverClose(CloseCode.Unauthorized);
		(await expectRedialAfter(0)).welcome();
		FakeWebSocket.last.serverClose(CloseCode.Unauthorized);
		await expectRedialAfter(0);
		expect(room.state).toBe("reconnecting");
		expect(token).toHaveBeenCalledTimes(3);
	});

	it("stops at once when the token is a fixed string that cannot be refreshed", async () => {
		const { room, events, ws } = await startOpen({ token: "static" });
		ws.serverClose(CloseCode.Unauthorized, { code: "unauthorized" });
		expect(room.state).toBe("closed");
		expect(events.error.map((e) => e.code)).toEqual(["unauthorized"]);
	});

	it("retries with backoff and reports token_unavailable when the token function throws", async () => {
		const token = vi.fn<() => Promise<string>>().mockRejectedValueOnce(new Error("offline")).mockResolvedValueOnce("jwt");
		const { room, events } = start({ token });
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(0);
		expect(events.error).toEqual([{ code: "token_unavailable", message: expect.stringContaining("offline") }]);
		const ws = await expectRedialAfter(125);
		expect(ws.token).toBe("jwt");
		expect(room.state).toBe("connecting");
	});
});
