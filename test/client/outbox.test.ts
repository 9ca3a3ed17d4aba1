import { describe, expect, it } from "vitest";
import { BatonError } from "../../client/errors.ts";
import { Outbox } from "../../client/outbox.ts";

describe("Outbox", () => {
	it("settles a publish once: a second ack for the same id is ignored", async () => {
		const outbox = new Outbox();
		const { settled } = outbox.add("a", '{"type":"publish","id":"a","data":1}');
		expect(outbox.ack("a", { seq: 7, dup: false })).toBe(true);
		expect(outbox.ack("a", { seq: 7, dup: true })).toBe(false);
		await expect(settled).resolves.toEqual({ seq: 7, dup: false });
		expect(outbox.size).toBe(0);
	});

	it("lists entries not yet sent on a link, oldest first, and counts those in flight on it", () => {
		const outbox = new Outbox();
		const a = outbox.add("a", "A").entry;
		outbox.add("b", "B");
		const c = outbox.add("c", "C").entry;
		a.sentOn = 1;
		c.sentOn = 2;
		expect(outbox.queueOn(1).unsent.map((e) => e.id)).toEqual(["b", "c"]);
		expect(outbox.queueOn(1).inFlight).toBe(1);
		expect(outbox.queueOn(3).unsent.map((e) => e.id)).toEqual(["a", "b", "c"]);
		expect(outbox.queueOn(3).inFlight).toBe(0);
	});

	it("blames the largest publish sent on the link for a 1009", async () => {
		const outbox = new Outbox();
		const small = outbox.add("small", "x".repeat(10));
		const big = outbox.add("big", "x".repeat(1_000));
		const unsent = outbox.add("bigger-but-unsent", "x".repeat(5_000));
		small.entry.sentOn = 1;
		big.entry.sentOn = 1;
		expect(outbox.failLargestSentOn(1, new BatonError("too_large", "too big"))).toBe("big");
		await expect(big.settled).rejects.toMatchObject({ code: "too_large" });
		expect(outbox.has("small")).toBe(true);
		expect(outbox.has("bigger-but-unsent")).toBe(true);
		outbox.failAll(new BatonError("closed", "closed"));
		await expect(small.settled).rejects.toMatchObject({ code: "closed" });
		await expect(unsent.settled).rejects.toMatchObject({ code: "closed" });
	});

	it("measures frames in UTF-8 bytes, not characters", () => {
		const outbox = new Outbox();
		expect(outbox.add("e", "é").entry.bytes).toBe(2);
	});
});
