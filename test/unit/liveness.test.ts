/**
 * When the room's single alarm runs (CONTRACT.md §2, §7): the earliest real deadline, never
 * sooner than one HEARTBEAT_INTERVAL_MS after the last run, never in the past.
 */
import { describe, expect, it } from "vitest";
import { isSilentTooLong, nextAlarmTime, silenceCheckTime, silenceDeadline, tokenDeadline } from "../../durable-objects/room/liveness.ts";

const S = { intervalMs: 30_000, timeoutMs: 90_000 };
const NOW = 1_800_000_000_000;

describe("nextAlarmTime", () => {
	it("without a previous run, is the deadline when it lies ahead", () => {
		expect(nextAlarmTime(NOW + 5000, null, NOW, S)).toBe(NOW + 5000);
	});

	it("is never in the past or now: an overdue deadline runs at now + 1", () => {
		expect(nextAlarmTime(NOW - 10_000, null, NOW, S)).toBe(NOW + 1);
		expect(nextAlarmTime(NOW, null, NOW, S)).toBe(NOW + 1);
	});

	it("is never sooner than one interval after the last run", () => {
		expect(nextAlarmTime(NOW + 1000, NOW, NOW, S)).toBe(NOW + S.intervalMs);
		expect(nextAlarmTime(NOW + 1000, NOW - 29_000, NOW, S)).toBe(NOW + 1000);
		expect(nextAlarmTime(NOW + 1000, NOW - 29_500, NOW, S)).toBe(NOW + 1000);
		expect(nextAlarmTime(NOW - 5000, NOW - 20_000, NOW, S)).toBe(NOW + 10_000);
	});

	it("a deadline later than the cadence bound wins", () => {
		expect(nextAlarmTime(NOW + 80_000, NOW, NOW, S)).toBe(NOW + 80_000);
	});

	it("a last run long ago does not pull the alarm into the past", () => {
		expect(nextAlarmTime(NOW - 1, NOW - 3_600_000, NOW, S)).toBe(NOW + 1);
	});
});

describe("deadlines", () => {
	it("a token stops being valid 5 s (the leeway) after exp, in ms", () => {
		expect(tokenDeadline(1_800_000_000)).toBe(1_800_000_005_000);
	});

	it("a socket is silent too long only after more than the timeout", () => {
		expect(isSilentTooLong(NOW, NOW + S.timeoutMs, S)).toBe(false);
		expect(isSilentTooLong(NOW, NOW + S.timeoutMs + 1, S)).toBe(true);
	});

	it("the silence deadline is the first moment isSilentTooLong holds", () => {
		const d = silenceDeadline(NOW, S);
		expect(isSilentTooLong(NOW, d, S)).toBe(true);
		expect(isSilentTooLong(NOW, d - 1, S)).toBe(false);
	});

	it("a live socket is checked again within timeout + interval of its last sign of life", () => {
		const t = silenceCheckTime(NOW, S);
		expect(t).toBeGreaterThanOrEqual(silenceDeadline(NOW, S));
		expect(t).toBeLessThanOrEqual(NOW + S.timeoutMs + S.intervalMs);
	});
});
