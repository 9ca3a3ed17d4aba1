/**
 * Publish limits (CONTRACT.md §5, §9, §13) as pure functions: the token bucket (one per (room,
 * sub), kept by publish-bucket.ts), and the per-connection head-of-line rule, refusal count and
 * protocol-error strikes, over the attachment so they survive hibernation.
 */
import type { Attachment } from "./attachment.ts";

export interface RateSettings {
	perSec: number;
	burst: number;
}

/** A token bucket: `tokens` as of `at` (ms). */
export interface Bucket {
	tokens: number;
	at: number;
}

/** Refills `b` to `now`. Mutates `b`. */
function refill(b: Bucket, now: number, s: RateSettings): void {
	const elapsed = Math.max(0, now - b.at);
	b.tokens = Math.min(s.burst, b.tokens + (elapsed * s.perSec) / 1000);
	b.at = Math.max(b.at, now);
}

/** Takes one token from the bucket; false when the publish must be refused. Mutates `b`. */
export function takePublishToken(b: Bucket, now: number, s: RateSettings): boolean {
	refill(b, now, s);
	if (b.tokens < 1) return false;
	b.tokens -= 1;
	return true;
}

/** Milliseconds until `b` holds a whole token again (0 when it does now). */
export function msUntilToken(b: Bucket, now: number, s: RateSettings): number {
	refill(b, now, s);
	return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) * 1000) / s.perSec);
}

/** True when `b` has refilled to its burst by `now` (it can be forgotten: a new one is the same). */
export function isFull(b: Bucket, now: number, s: RateSettings): boolean {
	return b.tokens + ((now - b.at) * s.perSec) / 1000 >= s.burst;
}

export const REFUSAL_WINDOW_MS = 10_000;

/**
 * Head-of-line rule: after a publish is refused for rate, every later publish on the connection
 * is refused too until the refused one is sent again (or REFUSAL_WINDOW_MS has passed, for a
 * client that gave it up). Without it, a token refilling in the middle of a pipelined burst lets a
 * later publish be stored before an earlier refused one, and a client's publishes get seqs out of
 * the order it sent them. The SDK re-sends refused publishes oldest first, so it never waits long.
 */
export function waitsBehindRefused(a: Attachment, id: string, now: number): boolean {
	return a.refusedId !== undefined && a.refusedId !== id && now - (a.refusedAt ?? 0) < REFUSAL_WINDOW_MS;
}

/** Records the outcome of a publish's rate check for {@link waitsBehindRefused}. Mutates `a`. */
export function noteRateOutcome(a: Attachment, id: string, accepted: boolean, waited: boolean, now: number): void {
	if (accepted) {
		delete a.refusedId;
		delete a.refusedAt;
	} else if (!waited) {
		a.refusedId = id;
		a.refusedAt = now;
	}
}

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
