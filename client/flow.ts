/**
 * Publish flow control. The server refuses publishes beyond its per-connection token bucket
 * (`rate_limited`) and closes with 4009 after more than 2 × burst refusals in 10 s, so an SDK
 * that re-sent a whole offline backlog at once would be disconnected for it. Instead:
 *
 * - at most {@link PUBLISH_WINDOW} publishes are in flight (sent, not yet acked) on a socket;
 * - after a refusal, one at a time, paced: the rate starts at {@link PACED_START_PER_SEC}, halves
 *   on every further refusal and grows by one per second of acks (additive increase,
 *   multiplicative decrease), so refusals stay rare while the backlog drains near the server's
 *   limit, whatever that limit is configured to. The server refuses every publish behind a
 *   refused one, so the refusals of publishes sent before the last cut are one event, not many;
 * - back to the window once nothing is pending, or on a new socket (a fresh bucket).
 */

/** Publishes in flight at once while unthrottled; below the default burst (40). */
export const PUBLISH_WINDOW = 16;
/** Publishes/s right after the first refusal: half the default limit (20/s). */
export const PACED_START_PER_SEC = 10;
/** The slowest pace: one publish per second. */
export const PACED_MIN_PER_SEC = 1;

export class PublishFlow {
	/** Publishes per second while paced; null while unthrottled. */
	#rate: number | null = null;
	#lastSendAt = Number.NEGATIVE_INFINITY;
	#acksAtRate = 0;
	/** When the rate was last cut; refusals of publishes sent before then do not cut it again. */
	#cutAt = Number.NEGATIVE_INFINITY;

	/** True after a refusal, until {@link reset}. */
	get paced(): boolean {
		return this.#rate !== null;
	}

	/**
	 * How long to wait before sending the next publish, given how many are in flight: 0 to send
	 * now, a delay in ms, or null when the window is full (the next ack opens it).
	 */
	nextSendIn(inFlight: number, now: number): number | null {
		if (this.#rate === null) return inFlight < PUBLISH_WINDOW ? 0 : null;
		if (inFlight > 0) return null;
		return Math.max(0, Math.ceil(this.#lastSendAt + 1000 / this.#rate - now));
	}

	sent(now: number): void {
		this.#lastSendAt = now;
	}

	acked(): void {
		if (this.#rate === null) return;
		// One more publish per second after a second's worth of acks at the current rate.
		if (++this.#acksAtRate >= this.#rate) {
			this.#rate += 1;
			this.#acksAtRate = 0;
		}
	}

	/** A publish sent at `sentAt` was refused for rate. */
	refused(sentAt: number, now: number): void {
		// Sent no later than the cut: refused behind the publish that caused it.
		if (sentAt <= this.#cutAt) return;
		this.#rate = this.#rate === null ? PACED_START_PER_SEC : Math.max(PACED_MIN_PER_SEC, this.#rate / 2);
		this.#acksAtRate = 0;
		this.#cutAt = now;
	}

	reset(): void {
		this.#rate = null;
		this.#lastSendAt = Number.NEGATIVE_INFINITY;
		this.#acksAtRate = 0;
		this.#cutAt = Number.NEGATIVE_INFINITY;
	}
}
