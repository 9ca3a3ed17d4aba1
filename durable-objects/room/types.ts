/** Shapes the room returns over RPC to the gateway (CONTRACT.md §3). */
import type { ErrorCode } from "../../protocol/error-codes.ts";
import type { MessageFrame, PresenceEntry } from "../../protocol/messages.ts";

export interface RoomInfo {
	room: string;
	home: string;
	seq: number;
	connections: number;
	presence: PresenceEntry[];
}

export interface HistoryPage {
	messages: MessageFrame[];
	seq: number;
	oldest: number | null;
}

export type PublishResult = { ok: true; seq: number; dup: boolean } | { ok: false; code: ErrorCode };

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
