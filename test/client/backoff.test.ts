import { describe, expect, it } from "vitest";
import { DEFAULT_BACKOFF, fullJitter, resolveBackoff, smallJitter } from "../../client/backoff.ts";

const backoff = { base: 100, cap: 1_000 };

describe("fullJitter", () => {
	it("draws from the whole window [0, base·2^attempt)", () => {
		expect(fullJitter(0, backoff, () => 0)).toBe(0);
		expect(fullJitter(0, backoff, () => 0.5)).toBe(50);
		expect(fullJitter(2, backoff, () => 0.5)).toBe(200);
		expect(fullJitter(3, backoff, () => 0.999)).toBe(799);
	});

	it("never exceeds the cap however many attempts failed", () => {
		for (const attempt of [4, 10, 40, 1_000, Number.MAX_SAFE_INTEGER]) {
			const delay = fullJitter(attempt, backoff, () => 0.999_999);
			expect(delay).toBeLessThan(backoff.cap);
			expect(delay).toBeGreaterThanOrEqual(backoff.cap * 0.99);
		}
	});

	it("stays within [0, cap) for random draws", () => {
		for (let attempt = 0; attempt < 50; attempt++) {
			const delay = fullJitter(attempt, backoff);
			expect(delay).toBeGreaterThanOrEqual(0);
			expect(delay).toBeLessThan(backoff.cap);
		}
	});
});

describe("smallJitter", () => {
	it("adds less than one base delay", () => {
		expect(smallJitter(backoff, () => 0.999)).toBe(99);
		expect(smallJitter(backoff, () => 0)).toBe(0);
	});
});

describe("resolveBackoff", () => {
	it("defaults to 250 ms base and 10 s cap", () => {
		expect(resolveBackoff(undefined)).toEqual({ base: 250, cap: 10_000 });
		expect(DEFAULT_BACKOFF).toEqual({ base: 250, cap: 10_000 });
	});

	it("keeps valid values and replaces negative or non-finite ones", () => {
		expect(resolveBackoff({ base: 50, cap: 400 })).toEqual({ base: 50, cap: 400 });
		expect(resolveBackoff({ base: -1, cap: Number.NaN })).toEqual({ base: 250, cap: 10_000 });
	});

	it("raises a cap below the base to the base", () => {
		expect(resolveBackoff({ base: 500, cap: 100 })).toEqual({ base: 500, cap: 500 });
	});
});
