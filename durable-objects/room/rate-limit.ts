/**
 * Per-connection publish limits (CONTRACT.md §5, §9), as pure functions over the attachment so
 * they survive hibernation and are unit-testable.
 */
import type { Attachment } from "./attachment.ts";

export interface RateSettings {
	perSec: number;
	burst: number;
}

/** Takes one token from the bucket; false when the publish must be refused. Mutates `a`. */
export function takePublishToken(a: Attachment, now: number, s: RateSettings): boolean {
	const elapsed = Math.max(0, now - a.tokensAt);
	a.tokens = Math.min(s.burst, a.tokens + (elapsed * s.perSec) / 1000);
	a.tokensAt = now;
	if (a.tokens < 1) return false;
	a.tokens -= 1;
	return true;
}

export const REFUSAL_WINDOW_MS = 10_000;

/** Counts one refusal; true when the connection exceeded 2 × burst refusals within 10 s. */
export function countRefusal(a: Attachment, now: number, s: RateSettings): boolean {
	if (now - a.refusalsAt > REFUSAL_WINDOW_MS) {
		a.refusals = 0;
		a.refusalsAt = now;
	}
	a.refusals += 1;
	return a.refusals > 2 * s.burst;
}

export const STRIKE_WINDOW_MS = 60_000;
export const MAX_STRIKES = 10;

/** Counts one protocol error; true when it is the 10th within 60 s (close with 1008). */
export function countStrike(a: Attachment, now: number): boolean {
	a.strikes = [...a.strikes.filter((t) => now - t < STRIKE_WINDOW_MS), now].slice(-MAX_STRIKES);
	return a.strikes.length >= MAX_STRIKES;
}
