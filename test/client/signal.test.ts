import { describe, expect, it, vi } from "vitest";
import { BatonError, CloseCode } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { expectRedialAfter, settle, start, startOpen, useFakes } from "./harness.ts";

useFakes();

describe("connect({ signal })", () => {
	it("an already aborted signal closes the room before any dial", async () => {
		const { room, events } = start({ signal: AbortSignal.abort() });
		await settle();
		expect(room.state).toBe("closed");
		expect(FakeWebSocket.instances).toHaveLength(0);
		expect(events.close).toEqual([{ code: CloseCode.Normal, reason: "", willReconnect: false, opened: false }]);
		await expect(room.ready).rejects.toMatchObject({ code: "aborted" });
		expect(vi.getTimerCount()).toBe(0);
	});

	it("aborting an open room closes its socket with 1000 and rejects pending publishes with `aborted`", async () => {
		const controller = new AbortController();
		const { room, events, ws } = await startOpen({ signal: controller.signal });
		const pending = room.publish("x").catch((error: unknown) => error);
		controller.abort();
		expect(ws.closedByClient?.code).toBe(CloseCode.Normal);
		expect(room.state).toBe("closed");
		expect(events.error).toEqual([]);
		expect(events.close).toEqual([{ code: CloseCode.Normal, reason: "", willReconnect: false, opened: true }]);
		expect(await pending).toMatchObject({ name: "BatonError", code: "aborted" });
		expect(vi.getTimerCount()).toBe(0);
	});

	it("stops listening to the signal once closed", async () => {
		const controller = new AbortController();
		const { room, events } = await startOpen({ signal: controller.signal });
		room.close();
		controller.abort();
		expect(events.close).toHaveLength(1);
	});
});

describe("publish(data, { signal })", () => {
	it("an aborted signal refuses at once, without queueing", async () => {
		const { room, ws } = await startOpen();
		const error = await room.publish("x", { id: "p", signal: AbortSignal.abort() }).catch((e: unknown) => e);
		expect(error).toMatchObject({ code: "aborted", publishId: "p", maybeStored: false });
		expect(room.pendingPublishes).toBe(0);
		expect(ws.publishes()).toEqual([]);
	});

	it("aborting a publish queued while offline removes it: it is never sent", async () => {
		const { room, ws } = await startOpen({}, { resume: "r-1" });
		ws.serverClose(CloseCode.Abnormal);
		const controller = new AbortController();
		const kept = room.publish("kept", { id: "kept" });
		const dropped = room.publish("dropped", { id: "dropped", signal: controller.signal }).catch((e: unknown) => e);
		controller.abort();
		const error = await dropped;
		expect(error).toBeInstanceOf(BatonError);
		expect(error).toMatchObject({ code: "aborted", publishId: "dropped", maybeStored: false });
		expect(room.pending.map((p) => p.id)).toEqual(["kept"]);
		const next = await expectRedialAfter(125);
		next.welcome({ resumed: true });
		expect(next.publishes().map((p) => p.id)).toEqual(["kept"]);
		next.ack("kept", 1);
		await expect(kept).resolves.toEqual({ seq: 1, dup: false });
	});

	it("aborting a publish already sent rejects it with maybeStored, never re-sends it, and drops its late ack quietly", async () => {
		const { room, events, ws } = await startOpen({}, { resume: "r-1" });
		const controller = new AbortController();
		const sent = room.publish("sent", { id: "s", signal: controller.signal }).catch((e: unknown) => e);
		expect(ws.publishes().map((p) => p.id)).toEqual(["s"]);
		controller.abort();
		expect(await sent).toMatchObject({ code: "aborted", publishId: "s", maybeStored: true });
		// The ack (or an error) for it may still come: nobody is told about it.
		ws.ack("s", 4);
		ws.receive({ type: "error", code: "rate_limited", message: "slow", id: "s" });
		expect(events.error).toEqual([]);
		expect(events.ack).toEqual([]);
		ws.serverClose(CloseCode.Abnormal);
		const next = await expectRedialAfter(125);
		next.welcome({ resumed: true });
		expect(next.publishes()).toEqual([]);
	});

	it("an abort after the ack changes nothing", async () => {
		const { room, ws } = await startOpen();
		const controller = new AbortController();
		const published = room.publish("x", { id: "a", signal: controller.signal });
		ws.ack("a", 1);
		await expect(published).resolves.toEqual({ seq: 1, dup: false });
		controller.abort();
		expect(room.pendingPublishes).toBe(0);
	});
});
