/**
 * Sending a connection its replay (CONTRACT.md §5, §13): the kept messages with seq > `after`,
 * in order, before any live message — a page of at most REPLAY_PAGE_BYTES at a time, the room's
 * replays taking turns one page each REPLAY_PAGE_GAP_MS, so ten connects replaying megabytes each
 * do not hold every other event of the room (an ack, a publish) behind them, and no connect holds
 * more than a page of bodies at once.
 *
 * The order holds because the replaying socket is left out of live `message` broadcasts
 * (RoomSockets.beginReplay) and each page is read from the log as it stands then: messages stored
 * while the replay runs are in the log, so a later page sends them, once and in order; the
 * socket turns live in the same turn as its last page reaches the head. A replay small enough
 * for one page is sent at once, with the welcome; a longer one waits its turns. Presence frames broadcast meanwhile wait for
 * the end of the replay. Should the log be pruned past the replay's position before it gets
 * there (a flood of more than HISTORY_MAX_BYTES during the replay), the connection is closed
 * 4013 slow_consumer: it resumes and is told the gap.
 */
import type { RoomState } from "./state.ts";

/** The most message bytes one page of a replay sends before yielding. */
export const REPLAY_PAGE_BYTES = 256 * 1024;
/**
 * The pause between two pages of replay (ms), room-wide. Not only a turn of the event loop: the
 * runtime still has to write out what a page handed it, and replays that refill at once starve
 * every other socket of the process (measured locally, ten concurrent 4 MiB replays: another
 * client's ack p99 ~230 ms with no pause). At 256 KiB per 2 ms a 4 MiB replay takes ~32 ms.
 */
export const REPLAY_PAGE_GAP_MS = 2;

export class Replays {
	/**
	 * Replays in progress, each at the seq it has sent up to (`started` once a page went out: from
	 * then on the log must still hold the next seq); served one page per turn, in turn.
	 */
	readonly #active = new Map<WebSocket, { after: number; started: boolean }>();
	#ticking = false;

	constructor(
		private readonly state: RoomState,
		/** Closes a connection whose replay fell behind the log (4013). */
		private readonly fellBehind: (ws: WebSocket) => void,
	) {}

	/**
	 * Sends `ws` the kept messages after `after`: at once when they fit in one page (the common
	 * resume after a short absence), else a page per turn from the next tick on.
	 */
	start(ws: WebSocket, after: number): void {
		const { log } = this.state;
		// The running byte totals say what the replay weighs without reading it.
		if (log.headCum() - log.cumAt(after) <= REPLAY_PAGE_BYTES && this.#page(ws, after) === null) return;
		this.state.sockets.beginReplay(ws);
		this.#active.set(ws, { after, started: false });
		this.#tick();
	}

	/**
	 * One page of the replay whose turn it is, then a pause: the room sends at most
	 * REPLAY_PAGE_BYTES per REPLAY_PAGE_GAP_MS of replays however many run at once, so they share
	 * the process with every other socket instead of crowding it out.
	 */
	#tick(): void {
		if (this.#ticking || this.#active.size === 0) return;
		this.#ticking = true;
		setTimeout(() => {
			this.#ticking = false;
			const turn = this.#active.entries().next().value;
			if (turn !== undefined) {
				const [ws, at] = turn;
				this.#active.delete(ws);
				const next = this.#continue(ws, at.after, at.started);
				// Back of the line: the other replays get their page first.
				if (next !== null) this.#active.set(ws, { after: next, started: true });
			}
			this.#tick();
		}, REPLAY_PAGE_GAP_MS);
	}

	/** The next page of `ws`'s replay; the seq to go on from, or null when it is over. */
	#continue(ws: WebSocket, after: number, started: boolean): number | null {
		if (ws.readyState !== WebSocket.OPEN) {
			this.state.sockets.forgetReplay(ws);
			return null;
		}
		// The first page starts at the oldest kept (the welcome told the client of any gap); after
		// it, a seq pruned before its page went out would be a gap nobody was told of.
		const oldest = this.state.log.oldest();
		if (started && oldest !== null && oldest > after + 1) {
			this.state.sockets.forgetReplay(ws);
			this.fellBehind(ws);
			return null;
		}
		const next = this.#page(ws, after);
		if (next === null) this.state.sockets.endReplay(ws);
		return next;
	}

	/** Sends one page after `after`; the last seq sent when more may follow, null once at the head. */
	#page(ws: WebSocket, after: number): number | null {
		let bytes = 0;
		let last = after;
		for (const frame of this.state.log.frames(after)) {
			this.state.sockets.sendText(ws, frame.text);
			last = frame.seq;
			bytes += frame.bytes;
			if (bytes >= REPLAY_PAGE_BYTES) break;
		}
		return last >= this.state.log.head() ? null : last;
	}
}
