/**
 * The first frames of a connection (CONTRACT.md §5, §13): `welcome`, then — when the connect
 * carries `after=N` — the kept messages with seq > N, in order, before any live message. A
 * connect whose `?epoch=` names another log than the room's gets every kept message instead,
 * with `gap` and `reset` set: its `after` counted in a log that is gone.
 *
 * The replay itself is sent by replay.ts, a page at a time, read from SQLite as it goes; the kept
 * log is itself bounded by HISTORY_MAX_BYTES.
 */
import { MessageType, type PresenceEntry, type WelcomeFrame } from "../../protocol/messages.ts";
import type { MessageLog } from "./message-log.ts";

export interface Replay {
	head: number;
	/** Replay the kept messages with seq > `after`; null: no replay. */
	after: number | null;
	/** How many that is (the kept log is gapless from its oldest seq to the head). */
	count: number;
	/** Some seq in (after, oldest kept) is no longer kept, or the log is another than the client's. */
	gap: boolean;
	/** The client's epoch was not the room's: its `after` meant nothing here. */
	reset: boolean;
}

/** What a connect with `after` (and the `epoch` it counts in) is replayed. */
export function replayFor(log: MessageLog, after: number | null, epoch: string | null): Replay {
	const head = log.head();
	if (after === null) return { head, after: null, count: 0, gap: false, reset: false };
	const reset = epoch !== null && epoch !== log.epoch();
	const from = reset ? 0 : after;
	if (from >= head) return { head, after: null, count: 0, gap: reset, reset };
	const oldest = log.oldest();
	const count = oldest === null ? 0 : head - Math.max(from, oldest - 1);
	return { head, after: from, count, gap: reset || oldest === null || oldest > from + 1, reset };
}

export interface WelcomeFacts {
	session: string;
	resume: string;
	resumed: boolean;
	region: string;
	home: string;
	heartbeat: { interval: number; timeout: number };
	presence: PresenceEntry[];
	presenceCount: number;
	/** Count mode (CONTRACT.md §12): `presence` lists only some of the subs present. */
	presenceTruncated?: true;
	epoch: string;
}

export function welcomeFrame(facts: WelcomeFacts, replay: Replay): WelcomeFrame {
	return {
		type: MessageType.Welcome,
		session: facts.session,
		resume: facts.resume,
		seq: replay.head,
		resumed: facts.resumed,
		replayed: replay.count,
		gap: replay.gap,
		region: facts.region,
		home: facts.home,
		heartbeat: facts.heartbeat,
		presence: facts.presence,
		presenceCount: facts.presenceCount,
		...(facts.presenceTruncated === true ? { presenceTruncated: true } : {}),
		epoch: facts.epoch,
		reset: replay.reset,
	};
}
