/**
 * When the room's single alarm must next run (CONTRACT.md §2, §7), as pure functions. The alarm
 * is a billed wake-up on the edge, so it is armed for the earliest real deadline (a socket that
 * could pass its heartbeat timeout, a token that expires, a presence leave that falls due),
 * never more often than HEARTBEAT_INTERVAL_MS, and not at all for an empty room.
 */
import { CLOCK_LEEWAY_SECONDS } from "../../src/core/auth/claims.ts";

export interface LivenessSettings {
	intervalMs: number;
	timeoutMs: number;
}

/** The moment a socket's token stops being valid (ms), leeway included. */
export function tokenDeadline(expSeconds: number): number {
	return (expSeconds + CLOCK_LEEWAY_SECONDS) * 1000;
}

/** A socket silent since `lastLife` has timed out at `now`. */
export function isSilentTooLong(lastLife: number, now: number, s: LivenessSettings): boolean {
	return now - lastLife > s.timeoutMs;
}

/** The moment a socket silent since `lastLife` can first be closed for silence. */
export function silenceDeadline(lastLife: number, s: LivenessSettings): number {
	return lastLife + s.timeoutMs + 1;
}

/**
 * When the alarm next needs to look at a socket that was alive at its last run: the latest
 * moment that still closes it within timeout + interval of its last sign of life. Checking any
 * sooner would only find it alive again when its client pings every interval; this way a room of
 * pinging clients costs at most one alarm run per HEARTBEAT_TIMEOUT_MS, and one run closes every
 * socket whose silence ran out within the same interval.
 */
export function silenceCheckTime(lastLife: number, s: LivenessSettings): number {
	return lastLife + s.timeoutMs + s.intervalMs;
}

/**
 * The next alarm time from the earliest deadline, no sooner than one interval after the last run
 * (the check cadence bound), and never in the past.
 */
export function nextAlarmTime(earliestDeadline: number, lastRun: number | null, now: number, s: LivenessSettings): number {
	const notBefore = lastRun === null ? now : lastRun + s.intervalMs;
	return Math.max(earliestDeadline, notBefore, now + 1);
}
