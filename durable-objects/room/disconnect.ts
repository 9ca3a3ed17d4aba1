/**
 * How connections end: the one server-side close path (counted, marked in the attachment, cleaned
 * up once), the peer's close or failure, and what a socket's end starts — the session's resume
 * window and its sub's presence grace, once the last socket of each is gone.
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import { log } from "../../src/core/log.ts";
import { MetricEvent } from "../../src/core/metrics.ts";
import { closeSocket } from "../../src/core/socket-close.ts";
import { type Attachment, readAttachment, writeAttachment } from "./attachment.ts";
import { retryInFrom } from "./retry.ts";
import { sessionTag, subTag } from "./sockets.ts";
import type { RoomState } from "./state.ts";

/** A socket closed for an unreadable attachment retries after this (spread, like a drain). */
const UNREADABLE_RETRY = { baseMs: 500, spreadMs: 4500 };

export class Disconnects {
	constructor(private readonly state: RoomState) {}

	/** The one server-side close path: counts the code, marks the socket, cleans up once. */
	close(ws: WebSocket, a: Attachment, code: CloseCode, reason: object): void {
		a.closedWith = code;
		writeAttachment(ws, a);
		this.state.accounts.forget(ws);
		this.state.sockets.forgetReplay(ws);
		this.state.counters.countClose(code);
		closeSocket(ws, code, reason);
		this.afterClose(a, Date.now());
		this.state.metrics.count(MetricEvent.Close, this.state.roomName, code);
		log.info("close", { room: this.state.roomName, session: a.session, code });
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
	peerClosed(ws: WebSocket, code: number): void {
		const serverClosed = readAttachment(ws)?.closedWith !== undefined;
		this.gone(ws, code);
		// A no-op where the runtime already answered the close.
		if (!serverClosed) closeSocket(ws, code === 1005 || code === 1006 ? CloseCode.Normal : code);
	}

	/** The peer closed or the socket failed: clean up once, whichever event came first. */
	gone(ws: WebSocket, code: number): void {
		const a = readAttachment(ws);
		if (a === null || a.closedWith !== undefined) return;
		a.closedWith = code;
		writeAttachment(ws, a);
		this.state.accounts.forget(ws);
		this.state.sockets.forgetReplay(ws);
		this.afterClose(a, Date.now());
		this.state.metrics.count(MetricEvent.Close, this.state.roomName, code);
		log.info("disconnect", { room: this.state.roomName, session: a.session, code });
	}

	/** Session resume window and presence grace start when a session's / sub's last socket goes. */
	private afterClose(a: Attachment, now: number): void {
		const { sockets, sessions, presence, config } = this.state;
		if (sockets.live(sessionTag(a.session)).length === 0) sessions.markDisconnected(a.session, now + config.resumeWindowMs);
		if (sockets.live(subTag(a.sub)).length === 0) presence.depart(a.sub, now + config.heartbeatIntervalMs);
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
