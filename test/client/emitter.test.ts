import { describe, expect, it, vi } from "vitest";
import { Emitter } from "../../client/emitter.ts";

describe("Emitter", () => {
	it("calls handlers in order and stops calling an unsubscribed one", () => {
		const emitter = new Emitter<{ ping: number }>();
		const calls: string[] = [];
		const off = emitter.on("ping", (n) => calls.push(`a${n}`));
		emitter.on("ping", (n) => calls.push(`b${n}`));
		emitter.emit("ping", 1);
		off();
		emitter.emit("ping", 2);
		expect(calls).toEqual(["a1", "b1", "b2"]);
	});

	it("keeps calling the other handlers when one throws, and reports the error asynchronously", async () => {
		const emitter = new Emitter<{ ping: number }>();
		const reported: unknown[] = [];
		const microtask = vi.spyOn(globalThis, "queueMicrotask").mockImplementation((fn) => {
			try {
				fn();
			} catch (error) {
				reported.push(error);
			}
		});
		const seen: number[] = [];
		emitter.on("ping", () => {
			throw new Error("app bug");
		});
		emitter.on("ping", (n) => seen.push(n));
		emitter.emit("ping", 1);
		microtask.mockRestore();
		expect(seen).toEqual([1]);
		expect(reported).toEqual([new Error("app bug")]);
	});
});
