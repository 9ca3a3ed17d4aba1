import type { MessageFrame } from "../protocol/index.ts";

/**
 * The in-order, exactly-once delivery buffer. `cursor` is the seq the app has seen everything up
 * to. A frame at or below it is a duplicate (a replay of something delivered before a reconnect)
 * and is dropped; frames above it are held until `take()` hands them out one at a time, in seq
 * order, with no seq skipped. The cursor advances only as frames are taken, so it never counts a
 * frame the app did not get.
 */
export class OrderedDelivery {
	#cursor: number | null;
	#held = new Map<number, MessageFrame>();

	/** @param cursor the seq already seen, or null when the stream has no starting point yet. */
	constructor(cursor: number | null) {
		this.#cursor = cursor;
	}

	/** The seq the app has seen everything up to; null until anchored. */
	get cursor(): number | null {
		return this.#cursor;
	}

	/** Number of frames waiting (deliverable or behind a hole). */
	get heldCount(): number {
		return this.#held.size;
	}

	/**
	 * Moves the starting point: the head of a live-only stream at its first welcome, or the seq
	 * before the oldest replayed message when the server reports a gap. Held frames at or below
	 * it are dropped.
	 */
	anchor(cursor: number): void {
		this.#cursor = cursor;
		for (const seq of this.#held.keys()) if (seq <= cursor) this.#held.delete(seq);
	}

	/**
	 * Takes one `message` frame off the wire. Returns true when a seq is missing before it — a
	 * hole in the stream that only a replay can fill.
	 */
	offer(frame: MessageFrame): { missing: boolean } {
		if (this.#cursor === null) this.#cursor = frame.seq - 1;
		if (frame.seq <= this.#cursor) return { missing: false };
		this.#held.set(frame.seq, frame);
		return { missing: !this.#held.has(this.#cursor + 1) };
	}

	/** The next frame in seq order, when it has arrived; advances the cursor past it. */
	take(): MessageFrame | undefined {
		if (this.#cursor === null) return undefined;
		const next = this.#held.get(this.#cursor + 1);
		if (next === undefined) return undefined;
		this.#held.delete(next.seq);
		this.#cursor = next.seq;
		return next;
	}
}
