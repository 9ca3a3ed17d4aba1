/**
 * Opening an admitted connection: its session (resumed or fresh), its socket and attachment,
 * presence, and its first frames — `welcome`, the replay, then what the others are told of the
 * arrival — then the close of any older socket of the same session (4011).
 *
 * Its cost does not grow with the room (CONTRACT.md §12): no scan of sockets or attachments, a
 * `welcome` listing at most PRESENCE_EVENTS_MAX subs, O(1) frames to the others, no signature
 * (the resume token is a stored secret), and the fewest row writes that keep §7: the session row
 * and, for a sub's first connection, its presence row.
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import type { PresenceEntry } from "../../protocol/messages.ts";
import type { ConnectInfo } from "../../src/core/internal.ts";
import { log } from "../../src/core/log.ts";
import { MetricEvent } from "../../src/core/metrics.ts";
import { newAttachment, writeAttachment } from "./attachment.ts";
import type { Disconnects } from "./disconnect.ts";
import type { Replays } from "./replay.ts";
import { formatResumeToken, newResumeSecret } from "./resume-secret.ts";
import { isResumableRow } from "./sessions.ts";
import type { RoomState } from "./state.ts";
import { replayFor, welcomeFrame } from "./welcome.ts";

export interface Opened {
	/** The client end, for the 101 response. */
	client: WebSocket;
	/** The sub's arrival, when it was one (its first live connection). */
	joined: PresenceEntry | null;
	/** Presence leaves that fell due while the room was empty, settled on the way. */
	leaves: PresenceEntry[];
	/** When the connection was made (ms). */
	at: number;
}

/**
 * `resumeSession`: the session the client's resume token names (resume.ts). Runs without an await
 * from here to the replay's start, so no publish can interleave between `welcome` and the replay
 * (replay.ts keeps the order from there).
 */
export function openConnection(state: RoomState, disconnects: Disconnects, replays: Replays, info: ConnectInfo, resumeSession: string | null): Opened {
	const { sessions, presence, sockets, config, feed } = state;
	const at = Date.now();
	// An empty room has no alarm: graces that ended while it was empty are settled first, so the
	// welcome does not list subs that are gone (in a room with sockets the alarm announces them).
	const leaves = sockets.liveCount() === 0 ? presence.takeDueLeaves(at) : [];
	feed.announceDepartures(leaves, at);
	// Checked again: the admission's awaits may have let the session's window end meanwhile.
	const row = resumeSession === null ? undefined : sessions.get(resumeSession);
	const resumed = resumeSession !== null && row !== undefined && isResumableRow(row, info.sub, at);
	const session = resumed ? resumeSession : crypto.randomUUID();
	const secret = (resumed ? row.secret : null) ?? newResumeSecret();
	// A fresh session has no sockets to replace.
	const replaced = resumed ? sockets.ofSession(info.sub, session) : [];

	const pair = new WebSocketPair();
	const [client, server] = [pair[0], pair[1]];
	sockets.accept(server, info.sub);
	// Acknowledged up to the head: the send account counts what is sent from now on (§13).
	const ack = { seq: state.log.head(), cum: state.log.headCum() };
	writeAttachment(server, newAttachment({ session, sub: info.sub, name: info.name, exp: info.exp, mayPublish: info.mayPublish, at, ack }));
	state.accounts.connected(server, ack.cum);
	if (resumed) sessions.reopen(session, row, info.name, secret);
	else sessions.open(session, info.sub, info.name, secret);

	const self = { sub: info.sub, name: info.name };
	const joined = presence.arrive(info.sub, info.name, at) ? self : null;
	if (joined !== null) feed.settleAfterArrival();

	const replay = replayFor(state.log, info.after, info.epoch);
	const heartbeat = { interval: config.heartbeatIntervalMs, timeout: config.heartbeatTimeoutMs };
	const resume = formatResumeToken(session, secret);
	const epoch = state.log.epoch();
	sockets.send(server, welcomeFrame({ session, resume, resumed, region: info.region, home: state.home, heartbeat, epoch, ...feed.view(self) }, replay));
	if (replay.after !== null) replays.start(server, replay.after);
	if (joined !== null) feed.announceArrival(joined, server, at);
	for (const [old, a] of replaced) disconnects.close(old, a, CloseCode.SessionReplaced, { code: "session_replaced" });

	state.metrics.count(MetricEvent.Connect, info.room, resumed ? "resumed" : "fresh");
	state.metrics.count(MetricEvent.Replay, info.room, "", replay.count);
	log.info("connect", {
		room: info.room,
		requestId: info.requestId,
		session,
		sub: info.sub,
		resumed,
		replayed: replay.count,
		gap: replay.gap,
		reset: replay.reset,
	});
	return { client, joined, leaves, at };
}
