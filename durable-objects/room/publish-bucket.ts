/**
 * One publish token bucket per (room, sub) (CONTRACT.md §13), shared by that sub's sockets and its
 * HTTP publishes, so more sockets or a reconnect buy no extra rate. Kept in memory: §7 lets an
 * eviction reset rate buckets, and an object is only evicted after seconds without events, so a
 * flood keeps its bucket. A bucket that has refilled is the same as a new one and is dropped
 * when the map grows.
 */
import { isFull, msUntilToken, type RateSettings, takePublishToken } from "./rate-limit.ts";

/** Above this many buckets, full ones are swept on the next take. */
const SWEEP_ABOVE = 10_000;

export type BucketTake = { ok: true } | { ok: false; retryIn: number };

export class PublishBuckets {
	readonly #buckets = new Map<string, { tokens: number; at: number }>();

	/** Takes one token of `sub`'s bucket; when there is none, how long until there is (ms). */
	take(sub: string, now: number, s: RateSettings): BucketTake {
		let bucket = this.#buckets.get(sub);
		if (bucket === undefined) {
			if (this.#buckets.size >= SWEEP_ABOVE) this.#sweep(now, s);
			bucket = { tokens: s.burst, at: now };
			this.#buckets.set(sub, bucket);
		}
		if (takePublishToken(bucket, now, s)) return { ok: true };
		return { ok: false, retryIn: Math.max(1, msUntilToken(bucket, now, s)) };
	}

	#sweep(now: number, s: RateSettings): void {
		for (const [sub, bucket] of this.#buckets) if (isFull(bucket, now, s)) this.#buckets.delete(sub);
	}
}
