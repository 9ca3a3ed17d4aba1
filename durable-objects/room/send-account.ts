/**
 * Slow consumers (CONTRACT.md §13). The runtime does not tell a room how much a socket has yet
 * to send (workerd has no `bufferedAmount`, cloudflare/workerd#988), so the room counts: a
 * connection's account is the bytes of `message` frames sent to it above its acknowledged seq —
 * its latest `read`, else the head when it connected. Every connection is sent every message, so
 * what it was sent is the log's head, and its account is `cum(head) − cum(ack)` (the log keeps
 * running byte totals per seq). Above SEND_BUFFER_MAX_BYTES it is closed with 4013; when the sum
 * over the room exceeds SEND_BUFFER_ROOM_MAX_BYTES, the furthest behind are closed until it is
 * below.
 *
 * Hot path: a check per appended message is O(1) — a lower bound on the smallest acknowledged
 * total, and the room's sum kept up to date on every `read`. Only when the bound says someone may
 * be over are the connections walked (which also refreshes the bound), which happens at most
 * once per SEND_BUFFER_MAX_BYTES of traffic unless someone is closed. The accounts live in memory
 * (§7 lets an eviction reset send counters); after a wake they are rebuilt from the attachments,
 * which keep each connection's acknowledged total, on first use.
 */
import type { MessageLog } from "./message-log.ts";
import type { RoomSockets } from "./sockets.ts";

export interface SendLimits {
	perConnection: number;
	room: number;
}

interface Index {
	/** Acknowledged cumulative byte count per open connection, relative to `base`. */
	acks: Map<WebSocket, number>;
	/** The log's cumulative count when the index was built (keeps the numbers small). */
	base: number;
	/** Sum of `acks`. */
	sum: number;
	/** At most the smallest of `acks` (exact after a walk). */
	minBound: number;
}

export class SendAccounts {
	#index: Index | null = null;

	constructor(
		private readonly sockets: RoomSockets,
		private readonly log: MessageLog,
	) {}

	#built(): Index {
		if (this.#index !== null) return this.#index;
		const base = this.log.headCum();
		const index: Index = { acks: new Map(), base, sum: 0, minBound: Number.POSITIVE_INFINITY };
		for (const [ws, a] of this.sockets.live()) this.#set(index, ws, (a.ackCum ?? base) - base);
		this.#index = index;
		return index;
	}

	#set(index: Index, ws: WebSocket, ack: number): void {
		index.sum += ack - (index.acks.get(ws) ?? 0);
		index.acks.set(ws, ack);
		index.minBound = Math.min(index.minBound, ack);
	}

	/** A new connection, acknowledged up to the log's cumulative count `cum`. */
	connected(ws: WebSocket, cum: number): void {
		// Not built yet: the build reads this connection's attachment like every other.
		if (this.#index !== null) this.#set(this.#index, ws, cum - this.#index.base);
	}

	/** A `read`: the connection has received everything up to cumulative count `cum`. */
	acknowledged(ws: WebSocket, cum: number): void {
		const index = this.#built();
		this.#set(index, ws, cum - index.base);
	}

	/** The connection is gone (closed by either side). */
	forget(ws: WebSocket): void {
		const index = this.#index;
		const ack = index?.acks.get(ws);
		if (index === null || ack === undefined) return;
		index.acks.delete(ws);
		index.sum -= ack;
	}

	/** Bytes sent to `ws` above its acknowledged seq, with the log at cumulative count `headCum`. */
	behind(ws: WebSocket, headCum: number): number | null {
		const index = this.#built();
		const ack = index.acks.get(ws);
		return ack === undefined ? null : headCum - index.base - ack;
	}

	/**
	 * After the log grew to cumulative count `headCum`: the connections to close as slow
	 * consumers — those over the per-connection limit, then the furthest behind while the room's
	 * total is over its limit. They are forgotten here; the caller closes them.
	 */
	overLimit(headCum: number, limits: SendLimits): WebSocket[] {
		const index = this.#built();
		const head = headCum - index.base;
		const out: WebSocket[] = [];
		if (head - index.minBound > limits.perConnection) {
			let min = Number.POSITIVE_INFINITY;
			for (const [ws, ack] of index.acks) {
				if (head - ack > limits.perConnection) out.push(ws);
				else min = Math.min(min, ack);
			}
			for (const ws of out) this.forget(ws);
			index.minBound = min;
		}
		let total = index.acks.size * head - index.sum;
		if (total > limits.room) {
			const furthestFirst = [...index.acks].sort((x, y) => x[1] - y[1]);
			for (const [ws, ack] of furthestFirst) {
				if (total <= limits.room) break;
				total -= head - ack;
				out.push(ws);
				this.forget(ws);
			}
		}
		return out;
	}
}
