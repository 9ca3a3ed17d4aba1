/**
 * What the room tells its connections about presence (CONTRACT.md §5, §9, §12). Up to
 * PRESENCE_EVENTS_MAX subs present, *event mode*: each arrival is a `join` for the others and each
 * departure a `leave`. From the arrival that takes the count past it, *count mode*: no joins or
 * leaves, only `presence_count` to everyone when the count changed, at most once per second; once
 * the count falls to ¾ of the maximum (rounded down) or below, everyone gets `presence_state`
 * (everyone present) and events resume. Either way a connect sends the others O(1) frames.
 *
 * The mode and the last count sent are kept in `meta` (both change at most once per second), so
 * an evicted room still sends the last change: the pending `presence_count` is an alarm deadline
 * (`dueAt`), and the alarm's run compares the count with the one last sent.
 */
import { MessageType, type PresenceEntry } from "../../protocol/messages.ts";
import { MetaKey } from "./meta.ts";
import { presenceFrame } from "./presence.ts";
import type { RoomState } from "./state.ts";

/** `presence_count` goes out at most this often (ms). */
export const PRESENCE_COUNT_INTERVAL_MS = 1000;

/** The presence a `welcome` or the info route shows. */
export interface PresenceView {
	presence: PresenceEntry[];
	presenceCount: number;
	/** Present (true) in count mode only. */
	presenceTruncated?: true;
}

export class PresenceFeed {
	/** When this instance last sent `presence_count` (ms); 0 after a wake. */
	#sentAt = 0;
	/** A change waits for the throttle: due at `#sentAt + interval`. */
	#pending = false;

	constructor(private readonly state: RoomState) {}

	private get max(): number {
		return this.state.config.presenceEventsMax;
	}

	/** ¾ of the maximum, rounded down: at or below it, count mode ends. */
	private get floor(): number {
		return Math.floor((this.max * 3) / 4);
	}

	get countMode(): boolean {
		return this.state.meta.getNumber(MetaKey.PresenceCountMode) !== null;
	}

	/**
	 * A sub arrived (already stored): enters count mode when this arrival takes the count past
	 * the maximum. Call before the arriving connection's `welcome`, which shows the mode.
	 */
	settleAfterArrival(): void {
		if (!this.countMode && this.state.presence.count() > this.max) this.state.meta.set(MetaKey.PresenceCountMode, 1);
	}

	/**
	 * A migration's copy arrived: the mode follows the count (every client reconnects and gets a
	 * `welcome` showing it), and the copied count counts as sent.
	 */
	settleAfterImport(): void {
		const count = this.state.presence.count();
		this.state.meta.set(MetaKey.PresenceCountMode, count > this.max ? 1 : null);
		this.state.meta.set(MetaKey.PresenceCountSent, count);
	}

	/** What a `welcome` shows: at most the maximum, `self` among them, the count, and the mode. */
	view(self?: PresenceEntry): PresenceView {
		const { presence } = this.state;
		const view: PresenceView = { presence: presence.first(this.max, self), presenceCount: presence.count() };
		if (this.countMode) view.presenceTruncated = true;
		return view;
	}

	/** Tells the others about `entry`'s arrival: a `join` in event mode, a count in count mode. */
	announceArrival(entry: PresenceEntry, arriving: WebSocket, now: number): void {
		if (this.countMode) this.countChanged(now);
		else this.state.sockets.broadcast(presenceFrame("join", entry), arriving);
	}

	/** Subs that left (already removed): `leave` frames, a count, or the way back to event mode. */
	announceDepartures(left: readonly PresenceEntry[], now: number): void {
		if (left.length === 0) return;
		const { sockets, presence, meta } = this.state;
		if (!this.countMode) {
			for (const entry of left) sockets.broadcast(presenceFrame("leave", entry));
			return;
		}
		if (presence.count() > this.floor) {
			this.countChanged(now);
			return;
		}
		meta.set(MetaKey.PresenceCountMode, null);
		this.#pending = false;
		const everyone = presence.list();
		sockets.broadcast({ type: MessageType.PresenceState, presence: everyone, count: everyone.length });
	}

	/** When a throttled `presence_count` is due (ms), or null. */
	dueAt(): number | null {
		return this.#pending ? this.#sentAt + PRESENCE_COUNT_INTERVAL_MS : null;
	}

	/**
	 * The alarm's part: sends the count if a change is due, or — after a wake, when this instance
	 * cannot know — if the count differs from the one last sent.
	 */
	flush(now: number): void {
		if (!this.countMode) return;
		const due = this.dueAt();
		if (due !== null && due > now) return;
		if (this.state.presence.count() !== this.state.meta.getNumber(MetaKey.PresenceCountSent)) this.send(now);
		else this.#pending = false;
	}

	private countChanged(now: number): void {
		if (now - this.#sentAt >= PRESENCE_COUNT_INTERVAL_MS) this.send(now);
		else this.#pending = true;
	}

	private send(now: number): void {
		const count = this.state.presence.count();
		this.#sentAt = now;
		this.#pending = false;
		this.state.meta.set(MetaKey.PresenceCountSent, count);
		this.state.sockets.broadcast({ type: MessageType.PresenceCount, count });
	}
}
