/**
 * How connections end: the one server-side close path (counted, marked in the attachment, cleaned
 * up once), the peer's close or failure, and what a socket's end starts — the session's resume
 * window and its sub's presence grace, once the last socket of each is gone. A client's own 1000
 * close is a goodbye (CONTRACT.md §12): its sub leaves at once, without the grace; every other
 * code (4000, a network loss, …) is a loss, and the grace applies.
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import type { PresenceEntry } from "../../protocol/messages.ts";
import { log } from "../../src/core/log.ts";
import { MetricEvent } from "../../src/core/metrics.ts";
import { closeSocket } from "../../src/core/socket-close.ts";
import { type Attachment, readAttachment, writeAttachment } from "./attachment.ts";
import { retryInFrom } from "./retry.ts";
import { subTag } from "./sockets.ts";
import type { RoomState } from "./state.ts";

/** A socket closed for an unreadable attachment retries after this (spread, like a drain). */
const UNREADABLE_RETRY = { baseMs: 500, spreadMs: 4500 };

/** What a socket's end changed for presence: the sub that left at once (a goodbye), if any. */
export type Ended = readonly PresenceEntry[];

const NOTHING: Ended = [];

export class Disconnects {
	/** The earliest grace end the closes since the last take started; undefined after a wake (unknown: read from storage). */
	#leaveDue: number | null | undefined = undefined;

	constructor(private readonly state: RoomState) {}

	/** When the alarm must next announce a leave, for the clock to arm (CONTRACT.md §5 grace). */
	takeLeaveDeadline(): number | null {
		const due = this.#leaveDue === undefined ? this.state.presence.nextLeaveAt() : this.#leaveDue;
		this.#leaveDue = null;
		return due;
	}

	/** The one server-side close path: counts the code, marks the socket, cleans up once. */
	close(ws: WebSocket, a: Attachment, code: CloseCode, reason: object): Ended {
		const first = a.closedWith === undefined;
		a.closedWith = code;
		writeAttachment(ws, a);
		this.state.accounts.forget(ws);
		this.state.sockets.forgetReplay(ws);
		this.state.counters.countClose(code);
		closeSocket(ws, code, reason);
		this.state.metrics.count(MetricEvent.Close, this.state.roomName, code);
		log.info("close", { room: this.state.roomName, session: a.session, code });
		return first ? this.afterClose(a, false, Date.now()) : NOTHING;
	}

	/**
	 * Closes a socket whose attachment cannot be read with 1012 `{"retryIn"}` (CONTRACT.md §7): the
	 * client resumes, and the session it had is found in SQLite. Nothing else can be cleaned up for
	 * it here; the next sweep marks its session and presence as gone.
	 */
	closeUnreadable(ws: WebSocket): void {
		this.state.counters.countClose(CloseCode.ServiceRestart);
		closeSocket(ws, CloseCode.ServiceRestart, { retryIn: retryInFrom(UNREADABLE_RETRY) });
		log.warn("attachment_unreadable", { room: this.state.roomName });
	}

	/** The peer closed: clean up, and complete its closing handshake unless the room started it. */
	peerClosed(ws: WebSocket, code: number): Ended {
		const serverClosed = readAttachment(ws)?.closedWith !== undefined;
		const ended = this.gone(ws, code);
		// A no-op where the runtime already answered the close.
		if (!serverClosed) closeSocket(ws, code === 1005 || code === 1006 ? CloseCode.Normal : code);
		return ended;
	}

	/** The peer closed or the socket failed: clean up once, whichever event came first. */
	gone(ws: WebSocket, code: number): Ended {
		const a = readAttachment(ws);
		if (a === null || a.closedWith !== undefined) return NOTHING;
		a.closedWith = code;
		writeAttachment(ws, a);
		this.state.accounts.forget(ws);
		this.state.sockets.forgetReplay(ws);
		this.state.metrics.count(MetricEvent.Close, this.state.roomName, code);
		log.info("disconnect", { room: this.state.roomName, session: a.session, code });
		return this.afterClose(a, code === CloseCode.Normal, Date.now());
	}

	/**
	 * Session resume window and presence grace start when a session's / sub's last socket goes;
	 * after a goodbye the sub leaves now instead (its session stays resumable all the same).
	 */
	private afterClose(a: Attachment, goodbye: boolean, now: number): Ended {
		const { sockets, sessions, presence, config, feed } = this.state;
		sockets.ended();
		const subSockets = sockets.live(subTag(a.sub));
		if (!subSockets.some(([, other]) => other.session === a.session)) sessions.markDisconnected(a.session, now + config.resumeWindowMs);
		if (subSockets.length > 0) return NOTHING;
		if (goodbye) {
			const left = presence.leaveNow(a.sub);
			if (left === null) return NOTHING;
			feed.announceDepartures([left], now);
			return [left];
		}
		const leaveAt = now + config.heartbeatIntervalMs;
		presence.depart(a.sub, leaveAt);
		if (this.#leaveDue !== undefined) this.#leaveDue = Math.min(this.#leaveDue ?? leaveAt, leaveAt);
		return NOTHING;
	}

	/**
	 * On every construction, one pass over the sockets: after a crash the runtime drops sockets
	 * without close events, so sessions and presence rows that still say "connected" but have no
	 * socket are closed out; and a socket whose attachment this code cannot read (older or newer
	 * code wrote it) is closed with 1012 instead of lingering unanswered.
	 */
	reconcile(now: number): void {
		const { sockets, sessions, presence, config } = this.state;
		const { live, unreadable } = sockets.scan();
		for (const ws of unreadable) this.closeUnreadable(ws);
		const liveSessions = new Set(live.map(([, a]) => a.session));
		const liveSubs = new Set(live.map(([, a]) => a.sub));
		for (const session of sessions.connectedSessions()) {
			if (!liveSessions.has(session)) sessions.markDisconnected(session, now + config.resumeWindowMs);
		}
		for (const entry of presence.list()) {
			if (!liveSubs.has(entry.sub)) presence.depart(entry.sub, now + config.heartbeatIntervalMs);
		}
	}

	/** Admin drain: every socket gets 1012 with a `retryIn` spread over the drain window. */
	drain(): { closed: number; windowMs: number } {
		const live = this.state.sockets.live();
		const windowMs = Math.min(this.state.config.drainWindowMs, Math.max(1000, live.length * 10));
		live.forEach(([ws, a], i) => {
			const retryIn = Math.floor((windowMs * (i + Math.random())) / Math.max(1, live.length));
			this.close(ws, a, CloseCode.ServiceRestart, { retryIn });
		});
		return { closed: live.length, windowMs };
	}

	/** Closes every connection of `sub` with `code` (admin kick: 4003). */
	closeSub(sub: string, code: CloseCode, reason: object): number {
		const live = this.state.sockets.live(subTag(sub));
		for (const [ws, a] of live) this.close(ws, a, code, reason);
		return live.length;
	}
}
