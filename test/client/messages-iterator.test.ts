import { describe, expect, it } from "vitest";
import { CloseCode, type MessageFrame } from "../../client/index.ts";
import { expectRedialAfter, settle, startOpen, useFakes } from "./harness.ts";

useFakes();

/** Drains an iterator in the background; `result` settles when the loop ends. */
function collect<T>(iterable: AsyncIterable<MessageFrame<T>>): { seen: number[]; result: Promise<unknown> } {
	const seen: number[] = [];
	const result = (async () => {
		for await (const m of iterable) seen.push(m.seq);
		return "done";
	})().catch((error: unknown) => error);
	return { seen, result };
}

describe("room.messages()", () => {
	it("yields every message once, in seq order, across a reconnect that replays some of them, and ends on close()", async () => {
		const { room, ws } = await startOpen({}, { resume: "r-1", seq: 0 });
		const { seen, result } = collect(room.messages());
		ws.message(1);
		ws.message(2);
		ws.serverClose(CloseCode.Abnormal);
		const next = await expectRedialAfter(125);
		next.welcome({ resumed: true, seq: 3, replayed: 1 });
		// The server replays after=2; a stale duplicate of 2 is dropped.
		next.message(2);
		next.message(3);
		await settle();
		expect(seen).toEqual([1, 2, 3]);
		room.close();
		expect(await result).toBe("done");
	});

	it("hands out what arrived before the loop asked for it", async () => {
		const { room, ws } = await startOpen({}, { seq: 0 });
		const iterator = room.messages();
		ws.message(1);
		ws.message(2);
		await expect(iterator.next()).resolves.toMatchObject({ done: false, value: { seq: 1 } });
		await expect(iterator.next()).resolves.toMatchObject({ done: false, value: { seq: 2 } });
	});

	it("throws the room's error when the room stops on an error close", async () => {
		const { room, ws } = await startOpen({}, { seq: 0 });
		const { seen, result } = collect(room.messages());
		ws.message(1);
		ws.serverClose(CloseCode.Forbidden, { code: "forbidden" });
		expect(await result).toMatchObject({ name: "BatonError", code: "forbidden", closeCode: CloseCode.Forbidden });
		expect(seen).toEqual([1]);
	});

	it("ends with `buffer_overflow` once more than bufferSize messages wait, after handing out the buffered ones", async () => {
		const { room, ws } = await startOpen({}, { seq: 0 });
		const iterator = room.messages({ bufferSize: 2 });
		for (const seq of [1, 2, 3, 4]) ws.message(seq);
		await expect(iterator.next()).resolves.toMatchObject({ value: { seq: 1 } });
		await expect(iterator.next()).resolves.toMatchObject({ value: { seq: 2 } });
		await expect(iterator.next()).rejects.toMatchObject({ code: "buffer_overflow" });
		await expect(iterator.next()).resolves.toEqual({ value: undefined, done: true });
	});

	it("detaches on break: later messages are not buffered for it", async () => {
		const { room, ws } = await startOpen({}, { seq: 0 });
		const iterator = room.messages();
		ws.message(1);
		for await (const m of iterator) {
			expect(m.seq).toBe(1);
			break;
		}
		ws.message(2);
		expect(iterator.buffered).toBe(0);
		await expect(iterator.next()).resolves.toEqual({ value: undefined, done: true });
	});

	it("ends with `aborted` when its signal aborts", async () => {
		const { room } = await startOpen();
		const controller = new AbortController();
		const { result } = collect(room.messages({ signal: controller.signal }));
		controller.abort();
		expect(await result).toMatchObject({ code: "aborted" });
		expect(room.state).toBe("open");
	});

	it("is done at once when the room is already closed, and throws a room's terminal error", async () => {
		const closed = await startOpen();
		closed.room.close();
		await expect(closed.room.messages().next()).resolves.toEqual({ value: undefined, done: true });
		const refused = await startOpen();
		refused.ws.serverClose(CloseCode.SessionReplaced);
		await expect(refused.room.messages().next()).rejects.toMatchObject({ code: "session_replaced" });
	});

	it("refuses a bufferSize that could never work", async () => {
		const { room } = await startOpen();
		expect(() => room.messages({ bufferSize: 0 })).toThrow(TypeError);
	});
});
