/**
 * When the SDK tells the room what it has received (CONTRACT.md §13): a `{"type":"read","seq":n}`
 * every {@link readEveryBytes} (4–256 KiB, by the room's size) of received `message` frames and
 * within 5 s while messages arrive (the contract's floor is every 256 KiB and every 5 s). The
 * room counts the bytes it sent above a connection's last `read` and closes one that falls too far
 * behind (4013); `read` is never answered. Reads are also spaced at least 60 ms apart: at most 17
 * within a second, under the room's allowance (more than 20 are protocol errors), and often enough
 * that a client taking in 60 MB/s is never SEND_BUFFER_MAX_BYTES (4 MiB) behind on its reads alone.
 */

/**
 * Received message bytes after which a `read` is due, at the least and at the most. The contract
 * asks for at least every 256 KiB, but the room also bounds the sum over all its connections
 * (SEND_BUFFER_ROOM_MAX_BYTES, 48 MiB by default): 5,000 healthy clients each up to 256 KiB
 * unacknowledged would add up to 1.25 GiB and be cut 4013. So the SDK reads every
 * READ_BUDGET_BYTES ÷ (subs present) bytes, within these bounds: a room of 100 reads every
 * 160 KiB, one of 5,000 every 4 KiB (≈ 20 MiB in all). A read is ~30 bytes upstream.
 */
export const READ_EVERY_BYTES = 256 * 1024;
export const READ_EVERY_BYTES_MIN = 4 * 1024;
/** The share of the room's send budget the SDK's clients aim to stay within, together. */
export const READ_BUDGET_BYTES = 16 * 1024 * 1024;

/** The read threshold for a room with `present` subs (`welcome.presenceCount`, `presence_count`). */
export function readEveryBytes(present: number): number {
	const share = Math.floor(READ_BUDGET_BYTES / Math.max(1, present));
	return Math.max(READ_EVERY_BYTES_MIN, Math.min(READ_EVERY_BYTES, share));
}
/** The longest a received message waits to be acknowledged. */
export const READ_EVERY_MS = 5_000;
/** The shortest time between two reads. */
export const READ_MIN_GAP_MS = 60;

/** UTF-8 size of `text`, counted without encoding it. */
export function utf8Bytes(text: string): number {
	let bytes = text.length;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		// A surrogate half is 2 of its pair's 4 bytes; other units ≥ 0x800 are 3, ≥ 0x80 are 2.
		if (c >= 0x800) bytes += c >= 0xd800 && c <= 0xdfff ? 1 : 2;
		else if (c >= 0x80) bytes += 1;
	}
	return bytes;
}

/**
 * The read schedule of one socket: what was received since its last read, and since when. Every
 * connection of a room receives the same stream, so equal thresholds would make them all read at
 * the same message — a burst of one `read` per connection that the room handles before the next
 * publish (measured: fan-out p99 2.2 × with 500 subscribers). Each schedule therefore reads at its
 * own fraction (½–1) of the threshold and of READ_EVERY_MS, drawn once per socket.
 */
export class ReadSchedule {
	#bytes = 0;
	readonly #share: number;
	#every: number;
	#lastSentAt = Number.NEGATIVE_INFINITY;
	#lastSentSeq = -1;
	#firstUnreadAt: number | null = null;

	/** `spread` in [0, 1): where between ½ and all of the threshold this socket reads. */
	constructor(spread: number = Math.random()) {
		this.#share = 0.5 + Math.min(Math.max(spread, 0), 1) / 2;
		this.#every = Math.floor(READ_EVERY_BYTES * this.#share);
	}

	/** The room now has `present` subs: reads come every {@link readEveryBytes} of that (times this socket's share). */
	roomSize(present: number): void {
		this.#every = Math.floor(readEveryBytes(present) * this.#share);
	}

	/** A message frame of `bytes` arrived at `now`: when the next read is due (ms since epoch; ≤ now: at once). */
	received(bytes: number, now: number): number {
		this.#bytes += bytes;
		this.#firstUnreadAt ??= now;
		const byTime = this.#firstUnreadAt + READ_EVERY_MS * this.#share;
		const byBytes = this.#bytes >= this.#every ? this.#lastSentAt + READ_MIN_GAP_MS : Number.POSITIVE_INFINITY;
		return Math.min(byTime, byBytes);
	}

	/** True when a read of `seq` would tell the room something new. */
	worth(seq: number): boolean {
		return seq > this.#lastSentSeq;
	}

	/** A read of `seq` was sent at `now`. */
	sent(seq: number, now: number): void {
		this.#bytes = 0;
		this.#firstUnreadAt = null;
		this.#lastSentAt = now;
		this.#lastSentSeq = seq;
	}
}
