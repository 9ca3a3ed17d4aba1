/** Shapes the room returns over RPC to the gateway (CONTRACT.md §3). */
import type { ErrorCode } from "../../protocol/error-codes.ts";
import type { MessageFrame, PresenceEntry } from "../../protocol/messages.ts";

/** A refusal the gateway answers with its status (a ban: 403 `forbidden`). */
export interface Refused {
	ok: false;
	code: ErrorCode;
	message: string;
}

/** An RPC answer that a refusal can take the place of. */
export type RoomAnswer<T> = { ok: true; value: T } | Refused;

export interface RoomInfo {
	room: string;
	home: string;
	seq: number;
	connections: number;
	/** At most PRESENCE_EVENTS_MAX entries (CONTRACT.md §12). */
	presence: PresenceEntry[];
	presenceCount: number;
	/** Count mode: `presence` lists only some of the subs present. */
	presenceTruncated?: true;
}

/** `GET /v1/rooms/:room/presence` (CONTRACT.md §12). */
export interface PresencePage {
	presence: PresenceEntry[];
	count: number;
	next: string | null;
}

export interface HistoryPage {
	messages: MessageFrame[];
	seq: number;
	oldest: number | null;
}

/**
 * An HTTP or server publish's answer. A refusal by baton carries one of its codes; a rejection by
 * the app's `onPublish` carries the app's code and `rejected: true` (HTTP 422).
 */
export type PublishResult =
	| { ok: true; seq: number; dup: boolean }
	| { ok: false; code: ErrorCode; message?: string; retryIn?: number }
	| { ok: false; code: string; message: string; rejected: true };

export interface RoomStats {
	room: string;
	home: string;
	seq: number;
	oldest: number | null;
	connections: number;
	sessions: number;
	wakeups: number;
	alarmRuns: number;
	alarm: number | null;
	closes: Record<string, number>;
	heartbeatTimeouts: number;
}
