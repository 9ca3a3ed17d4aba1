import type { PresenceCountFrame, PresenceEntry, PresenceFrame, PresenceStateFrame, WelcomeFrame } from "../protocol/index.ts";

/** Payload of the `presence_count` event. */
export interface PresenceCount {
	/** Distinct subs present in the room. */
	count: number;
	/** True in count mode (large rooms, CONTRACT.md §12): `room.presence` lists only some of them. */
	truncated: boolean;
}

/**
 * Who is in the room, as the frames tell it (CONTRACT.md §12): the list from each `welcome`,
 * kept current by `join`/`leave` in event mode; in count mode (`presenceTruncated`, or a
 * `presence_count` frame) only the count moves and the list is a sample; `presence_state`
 * brings back event mode with the full list. `list` keeps its identity until it changes, so a UI
 * can compare it cheaply.
 */
export class PresenceView {
	#members = new Map<string, PresenceEntry>();
	#list: readonly PresenceEntry[] = [];
	#count = 0;
	#truncated = false;

	get list(): readonly PresenceEntry[] {
		return this.#list;
	}

	get count(): number {
		return this.#count;
	}

	get truncated(): boolean {
		return this.#truncated;
	}

	/** Each frame below returns true when the count or the truncation changed. */
	onWelcome(frame: WelcomeFrame): boolean {
		this.#replace(frame.presence);
		return this.#set(frame.presenceCount ?? this.#members.size, frame.presenceTruncated ?? false);
	}

	onPresence(frame: PresenceFrame): boolean {
		if (frame.event === "join") this.#members.set(frame.sub, { sub: frame.sub, name: frame.name });
		else this.#members.delete(frame.sub);
		this.#list = [...this.#members.values()];
		// In count mode the server counts; a stray join/leave does not make the sample exact.
		return this.#truncated ? false : this.#set(this.#members.size, false);
	}

	onCount(frame: PresenceCountFrame): boolean {
		// `presence_count` is only sent in count mode: the list is a sample from now on.
		return this.#set(frame.count, true);
	}

	onState(frame: PresenceStateFrame): boolean {
		this.#replace(frame.presence);
		return this.#set(frame.count, false);
	}

	#replace(entries: readonly PresenceEntry[]): void {
		this.#members = new Map(entries.map((p) => [p.sub, { sub: p.sub, name: p.name }]));
		this.#list = [...this.#members.values()];
	}

	#set(count: number, truncated: boolean): boolean {
		const changed = count !== this.#count || truncated !== this.#truncated;
		this.#count = count;
		this.#truncated = truncated;
		return changed;
	}
}
