/**
 * The SDK's side of CONTRACT.md §13: `read` frames (every 256 KiB of received messages, less in a
 * big room, and every 5 s while messages arrive, never two within 60 ms) and the log epoch (sent
 * with `after`; a `reset` welcome moves `lastSeq` back and reports a gap).
 */
import { describe, expect, it, vi } from "vitest";
import { CloseCode } from "../../client/index.ts";
import {
	READ_BUDGET_BYTES,
	READ_EVERY_BYTES,
	READ_EVERY_BYTES_MIN,
	READ_EVERY_MS,
	READ_MIN_GAP_MS,
	ReadSchedule,
	readEveryBytes,
	utf8Bytes,
} from "../../client/read-ack.ts";
import { expectRedialAfter, seqs, startOpen, useFakes } from "./harness.ts";

useFakes();

describe("read frames", () => {
	it("counts UTF-8 bytes exactly", () => {
		for (const text of ["", "abc", "é", "漢字", "😀", "a😀é漢"]) expect(utf8Bytes(text)).toBe(new TextEncoder().encode(text).length);
	});

	it("acknowledges a trickle of messages within 5 s of the first unread one (at its own ½–1 share of it), with the last seq", async () => {
		const { ws } = await startOpen();
		ws.message(1);
		await vi.advanceTimersByTimeAsync(2000);
		ws.message(2);
		expect(ws.reads()).toEqual([]);
		await vi.advanceTimersByTimeAsync(READ_EVERY_MS / 2 - 2000 - 1);
		expect(ws.reads()).toEqual([]);
		await vi.advanceTimersByTimeAsync(READ_EVERY_MS / 2 + 1);
		expect(ws.reads()).toEqual([2]);
		// Nothing new arrived: no further read.
		await vi.advanceTimersByTimeAsync(3 * READ_EVERY_MS);
		expect(ws.reads()).toEqual([2]);
	});

	it("acknowledges every 256 KiB of received messages (or its own ½–1 share of it) at once, spaced at least READ_MIN_GAP_MS (60 ms) apart", async () => {
		const { ws } = await startOpen();
		const big = "x".repeat(64 * 1024);
		ws.message(1, big);
		// A bit over 64 KiB: under any socket's share of 256 KiB, so no read yet.
		expect(ws.reads()).toEqual([]);
		for (let seq = 2; seq <= 4; seq++) ws.message(seq, big);
		// Four: over 256 KiB, so a read has gone out by now (at the 2nd, 3rd or 4th frame).
		expect(ws.reads()).toHaveLength(1);
		expect(ws.reads()[0]).toBeGreaterThanOrEqual(2);
		const [first] = ws.reads();
		for (let seq = 5; seq <= 8; seq++) ws.message(seq, big);
		// Due again by bytes, but within READ_MIN_GAP_MS of the last read: it waits.
		expect(ws.reads()).toEqual([first]);
		await vi.advanceTimersByTimeAsync(READ_MIN_GAP_MS);
		expect(ws.reads()).toEqual([first, 8]);
		expect(READ_EVERY_BYTES).toBe(256 * 1024);
	});

	it("each socket reads at its own share (½–1) of the threshold and of READ_EVERY_MS, so a room's connections do not read in one burst", () => {
		const kib = 1024;
		const eager = new ReadSchedule(0);
		const patient = new ReadSchedule(0.999);
		for (const s of [eager, patient]) s.roomSize(1);
		// At 0: half of 256 KiB and of 5 s; near 1: almost all of each.
		expect(eager.received(128 * kib, 0)).toBe(Number.NEGATIVE_INFINITY + READ_MIN_GAP_MS);
		expect(patient.received(128 * kib, 0)).toBe(READ_EVERY_MS * (0.5 + 0.999 / 2));
		const timed = new ReadSchedule(0);
		expect(timed.received(10, 1000)).toBe(1000 + READ_EVERY_MS / 2);
	});

	it("reads more often in a bigger room, so its connections together stay within the room's send budget", () => {
		expect(readEveryBytes(1)).toBe(READ_EVERY_BYTES);
		expect(readEveryBytes(64)).toBe(READ_EVERY_BYTES);
		expect(readEveryBytes(100)).toBe(Math.floor(READ_BUDGET_BYTES / 100));
		expect(readEveryBytes(5000)).toBe(READ_EVERY_BYTES_MIN);
		// 5,000 subs each a read threshold behind: within the default room limit (48 MiB).
		expect(5000 * readEveryBytes(5000)).toBeLessThan(48 * 1024 * 1024);
		expect(2000 * readEveryBytes(2000)).toBeLessThanOrEqual(READ_BUDGET_BYTES);
	});

	it("sends no reads when no messages arrive, and a new socket starts its own schedule", async () => {
		const { ws } = await startOpen();
		await vi.advanceTimersByTimeAsync(3 * READ_EVERY_MS);
		expect(ws.reads()).toEqual([]);
		ws.message(1);
		ws.serverClose(CloseCode.Abnormal);
		const next = await expectRedialAfter(125);
		next.welcome({ seq: 1, resumed: true });
		await vi.advanceTimersByTimeAsync(READ_EVERY_MS);
		expect(ws.reads()).toEqual([]);
		expect(next.reads()).toEqual([]);
		next.message(2);
		await vi.advanceTimersByTimeAsync(READ_EVERY_MS);
		expect(next.reads()).toEqual([2]);
	});
});

describe("log epoch", () => {
	it("sends the last welcome's epoch with after on a reconnect", async () => {
		const { ws } = await startOpen({}, { epoch: "E1" });
		ws.message(1);
		ws.serverClose(CloseCode.Abnormal);
		const next = await expectRedialAfter(125);
		expect(next.query.get("after")).toBe("1");
		expect(next.query.get("epoch")).toBe("E1");
	});

	it("on reset:true moves lastSeq back to before the oldest replayed message, emits gap and delivers the new log from there", async () => {
		const { room, ws, events } = await startOpen({}, { epoch: "E1" });
		for (let seq = 1; seq <= 50; seq++) ws.message(seq);
		expect(room.lastSeq).toBe(50);
		ws.serverClose(CloseCode.Abnormal);
		const next = await expectRedialAfter(125);
		expect(next.query.get("epoch")).toBe("E1");
		// The room's log is another now (say its storage was lost): 3 messages, a new epoch.
		next.welcome({ seq: 3, replayed: 3, gap: true, reset: true, epoch: "E2", resumed: false });
		expect(events.gap).toEqual([{ after: 50, next: 1 }]);
		expect(room.lastSeq).toBe(0);
		for (let seq = 1; seq <= 3; seq++) next.message(seq);
		expect(seqs(events).slice(50)).toEqual([1, 2, 3]);
		expect(room.lastSeq).toBe(3);
		next.serverClose(CloseCode.Abnormal);
		const third = await expectRedialAfter(125);
		expect(third.query.get("epoch")).toBe("E2");
		expect(third.query.get("after")).toBe("3");
	});
});
