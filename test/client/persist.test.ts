import { describe, expect, it, vi } from "vitest";
import { CloseCode, connect, type LogFn } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { fakeJwt, MemoryStorage, record, settle, start, startOpen, useFakes } from "./harness.ts";

useFakes();

const KEY = "baton:http://127.0.0.1:8787:lobby";
const aliceToken = fakeJwt({ sub: "alice", exp: 4_000_000_000 });

/** The page before the reload: open, two messages seen, two publishes sent but not acked. */
async function pageBeforeReload(storage: MemoryStorage) {
	const page = await startOpen({ persist: { storage }, token: aliceToken }, { resume: "r-1", seq: 0 });
	page.ws.message(1);
	page.ws.message(2);
	page.room.publish({ text: "one" }, { id: "p1" }).catch(() => undefined);
	page.room.publish({ text: "two" }, { id: "p2" }).catch(() => undefined);
	await settle();
	return page;
}

describe("persist", () => {
	it("saves the resume token, lastSeq and the unacked publishes as they change", async () => {
		const storage = new MemoryStorage();
		const { ws } = await pageBeforeReload(storage);
		expect(storage.saved(KEY)).toEqual({
			v: 1,
			sub: "alice",
			resume: "r-1",
			lastSeq: 2,
			epoch: "epoch-1",
			outbox: [
				{ id: "p1", frame: '{"type":"publish","id":"p1","data":{"text":"one"}}' },
				{ id: "p2", frame: '{"type":"publish","id":"p2","data":{"text":"two"}}' },
			],
		});
		ws.ack("p1", 3);
		await settle();
		expect(storage.saved(KEY)?.outbox.map((p) => p.id)).toEqual(["p2"]);
	});

	it("after a reload, resumes the session after lastSeq and re-sends the unacked publishes under their ids: nothing lost or doubled", async () => {
		const storage = new MemoryStorage();
		await pageBeforeReload(storage);
		// The page is gone without close(); a new page starts with the same storage.
		FakeWebSocket.reset();
		const reloaded = connect({ url: "http://127.0.0.1:8787", room: "lobby", token: aliceToken, WebSocket: FakeWebSocket, persist: { storage } });
		const events = record(reloaded);
		expect(reloaded.lastSeq).toBe(2);
		expect(reloaded.pending).toEqual([
			{ id: "p1", data: { text: "one" }, sent: false, restored: true },
			{ id: "p2", data: { text: "two" }, sent: false, restored: true },
		]);
		await settle();
		const ws = FakeWebSocket.last;
		expect(ws.query.get("resume")).toBe("r-1");
		expect(ws.query.get("after")).toBe("2");
		// p1 had been stored before the reload (its ack was lost); p2 had not.
		ws.welcome({ resume: "r-2", resumed: true, seq: 3, replayed: 1 });
		ws.message(3, { text: "one" });
		expect(ws.publishes().map((p) => p.id)).toEqual(["p1", "p2"]);
		ws.ack("p1", 3, true);
		ws.ack("p2", 4);
		ws.message(4, { text: "two" });
		expect(events.message.map((m) => m.seq)).toEqual([3, 4]);
		expect(events.ack).toEqual([
			{ id: "p1", seq: 3, dup: true },
			{ id: "p2", seq: 4, dup: false },
		]);
		await settle();
		expect(storage.saved(KEY)).toMatchObject({ resume: "r-2", lastSeq: 4, outbox: [] });
	});

	it("a room closed before its first dial (React StrictMode's first mount) leaves the saved session untouched", async () => {
		const storage = new MemoryStorage();
		await pageBeforeReload(storage);
		const before = storage.items.get(KEY);
		FakeWebSocket.reset();
		const first = connect({ url: "http://127.0.0.1:8787", room: "lobby", token: aliceToken, WebSocket: FakeWebSocket, persist: { storage } });
		first.publish("from the first mount").catch(() => undefined);
		first.close();
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(0);
		expect(storage.items.get(KEY)).toBe(before);
		const second = connect({ url: "http://127.0.0.1:8787", room: "lobby", token: aliceToken, WebSocket: FakeWebSocket, persist: { storage } });
		expect(second.pending.map((p) => p.id)).toEqual(["p1", "p2"]);
		second.close();
	});

	it("close() after dialing keeps the resume token and lastSeq but drops the publishes it rejected", async () => {
		const storage = new MemoryStorage();
		const { room } = await pageBeforeReload(storage);
		room.close();
		await settle();
		expect(storage.saved(KEY)).toMatchObject({ resume: "r-1", lastSeq: 2, outbox: [] });
	});

	it("does not hand a saved session to another user's token", async () => {
		const storage = new MemoryStorage();
		await pageBeforeReload(storage);
		FakeWebSocket.reset();
		const bobToken = fakeJwt({ sub: "bob", exp: 4_000_000_000 });
		const { room } = start({ persist: { storage }, token: bobToken });
		await settle();
		const ws = FakeWebSocket.last;
		expect(ws.query.get("resume")).toBeNull();
		expect(ws.query.get("after")).toBeNull();
		ws.welcome({ resume: "bob-r" });
		expect(ws.publishes()).toEqual([]);
		expect(room.pendingPublishes).toBe(0);
		await settle();
		expect(storage.saved(KEY)).toMatchObject({ sub: "bob", resume: "bob-r", outbox: [] });
	});

	it("ignores a saved session it cannot read, and keys sessions per endpoint and room", async () => {
		const storage = new MemoryStorage();
		storage.items.set(KEY, "{not json");
		storage.items.set("baton:http://127.0.0.1:8787:other", JSON.stringify({ v: 1, sub: null, resume: "other-r", lastSeq: 9, outbox: [] }));
		const { room } = start({ persist: { storage } });
		expect(room.lastSeq).toBe(0);
		await settle();
		expect(FakeWebSocket.last.query.get("resume")).toBeNull();
		const custom = start({ persist: { storage, key: "baton:http://127.0.0.1:8787:other" } });
		expect(custom.room.lastSeq).toBe(9);
	});

	it("reports a storage that refuses writes through the log and keeps working", async () => {
		const storage = new MemoryStorage();
		storage.failWrites = true;
		const onLog = vi.fn<LogFn>();
		const { room, ws } = await startOpen({ persist: { storage }, onLog });
		const published = room.publish("x", { id: "x" });
		await settle();
		ws.ack("x", 1);
		await expect(published).resolves.toEqual({ seq: 1, dup: false });
		expect(onLog).toHaveBeenCalledWith("warn", expect.stringContaining("could not save the session"), expect.anything());
	});

	it("says so in the log when asked for where there is no sessionStorage (Node) and no storage was passed", async () => {
		const onLog = vi.fn<LogFn>();
		const { room } = await startOpen({ persist: true, onLog });
		expect(onLog).toHaveBeenCalledWith("warn", expect.stringContaining("no storage in this runtime"), expect.anything());
		expect(room.state).toBe("open");
	});

	it("uses globalThis.sessionStorage when present", async () => {
		const storage = new MemoryStorage();
		vi.stubGlobal("sessionStorage", storage);
		await startOpen({ persist: true }, { resume: "r-global" });
		await settle();
		expect(storage.saved(KEY)?.resume).toBe("r-global");
	});

	it("reports a restored publish the room refuses through the error event (nobody holds its promise)", async () => {
		const storage = new MemoryStorage();
		await pageBeforeReload(storage);
		FakeWebSocket.reset();
		const { events } = start({ persist: { storage }, token: aliceToken });
		await settle();
		const ws = FakeWebSocket.last;
		ws.welcome({ resumed: true, seq: 2 });
		ws.receive({ type: "error", code: "forbidden", message: "read-only", id: "p1" });
		await settle();
		expect(events.error).toEqual([{ code: "forbidden", message: "read-only", publishId: "p1" }]);
		ws.serverClose(CloseCode.Abnormal);
	});
});
