import { describe, expect, it } from "vitest";
import { OrderedDelivery } from "../../client/ordering.ts";
import type { MessageFrame } from "../../protocol/index.ts";

function frame(seq: number): MessageFrame {
	return { type: "message", seq, id: `id-${seq}`, from: "alice", data: seq, ts: seq };
}

function drain(buffer: OrderedDelivery): number[] {
	const out: number[] = [];
	for (let next = buffer.take(); next !== undefined; next = buffer.take()) out.push(next.seq);
	return out;
}

describe("OrderedDelivery", () => {
	it("delivers the next seq at once", () => {
		const buffer = new OrderedDelivery(4);
		expect(buffer.offer(frame(5))).toEqual({ missing: false });
		expect(drain(buffer)).toEqual([5]);
		expect(buffer.cursor).toBe(5);
	});

	it("drops a seq at or below the cursor as a duplicate", () => {
		const buffer = new OrderedDelivery(5);
		buffer.offer(frame(5));
		buffer.offer(frame(3));
		expect(drain(buffer)).toEqual([]);
		expect(buffer.heldCount).toBe(0);
	});

	it("holds a frame that skips ahead and reports the hole", () => {
		const buffer = new OrderedDelivery(1);
		expect(buffer.offer(frame(3))).toEqual({ missing: true });
		expect(drain(buffer)).toEqual([]);
		expect(buffer.cursor).toBe(1);
	});

	it("releases held frames in order once the hole is filled", () => {
		const buffer = new OrderedDelivery(0);
		buffer.offer(frame(3));
		buffer.offer(frame(2));
		expect(buffer.offer(frame(1))).toEqual({ missing: false });
		expect(drain(buffer)).toEqual([1, 2, 3]);
	});

	it("delivers each seq once when the same frames arrive twice", () => {
		const buffer = new OrderedDelivery(0);
		const delivered: number[] = [];
		for (const seq of [1, 2, 2, 3, 1, 3, 4]) {
			buffer.offer(frame(seq));
			delivered.push(...drain(buffer));
		}
		expect(delivered).toEqual([1, 2, 3, 4]);
	});

	it("anchors an unanchored stream at the first frame it sees", () => {
		const buffer = new OrderedDelivery(null);
		buffer.offer(frame(41));
		expect(drain(buffer)).toEqual([41]);
	});

	it("drops held frames at or below a new anchor and keeps the rest", () => {
		const buffer = new OrderedDelivery(0);
		buffer.offer(frame(5));
		buffer.offer(frame(8));
		buffer.anchor(7);
		expect(buffer.heldCount).toBe(1);
		expect(drain(buffer)).toEqual([8]);
	});
});
