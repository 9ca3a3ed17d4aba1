/**
 * The first frames of a connection (CONTRACT.md §5): `welcome`, then — when the connect carries
 * `after=N` — the kept messages with seq > N, in order, before any live message.
 */
import { type MessageFrame, MessageType, type PresenceEntry, type WelcomeFrame } from "../../protocol/messages.ts";
import type { MessageLog } from "./message-log.ts";

export interface Replay {
	head: number;
	messages: MessageFrame[];
	/** Some seq in (after, oldest kept) is no longer kept. */
	gap: boolean;
}

export function replayFor(log: MessageLog, after: number | null): Replay {
	const head = log.head();
	if (after === null || after >= head) return { head, messages: [], gap: false };
	const oldest = log.oldest();
	const gap = oldest === null || oldest > after + 1;
	return { head, messages: log.range(after, head - after), gap };
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
}

export function welcomeFrame(facts: WelcomeFacts, replay: Replay): WelcomeFrame {
	return {
		type: MessageType.Welcome,
		session: facts.session,
		resume: facts.resume,
		seq: replay.head,
		resumed: facts.resumed,
		replayed: replay.messages.length,
		gap: replay.gap,
		region: facts.region,
		home: facts.home,
		heartbeat: facts.heartbeat,
		presence: facts.presence,
		presenceCount: facts.presenceCount,
		...(facts.presenceTruncated === true ? { presenceTruncated: true } : {}),
	};
}
