/**
 * Opening an admitted connection: its session (resumed or fresh), its socket and attachment,
 * presence, and its first frames — `welcome`, the replay, the `join` for the others — then the
 * close of any older socket of the same session (4011).
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import type { PresenceEntry } from "../../protocol/messages.ts";
import { signResumeToken } from "../../src/core/auth/resume-token.ts";
import type { ConnectInfo } from "../../src/core/internal.ts";
import { log } from "../../src/core/log.ts";
import { MetricEvent } from "../../src/core/metrics.ts";
import { newAttachment, writeAttachment } from "./attachment.ts";
import type { Disconnects } from "./disconnect.ts";
import { presenceFrame } from "./presence.ts";
import type { Replays } from "./replay.ts";
import { sessionTag } from "./sockets.ts";
import type { RoomState } from "./state.ts";
import { replayFor, welcomeFrame } from "./welcome.ts";

export interface Opened {
	/** The client end, for the 101 response. */
	client: WebSocket;
	/** The sub's arrival, when it was a join (its first live connection). */
	joined: PresenceEntry | null;
	/** Presence leaves that fell due and were announced on the way. */
	leaves: PresenceEntry[];
	/** When the connection was made (ms). */
	at: number;
}

/** `resumeSession`: the session the client's resume token names (verified with the room's `key`). */
export async function openConnection(
	state: RoomState,
	disconnects: Disconnects,
	replays: Replays,
	info: ConnectInfo,
	resumeSession: string | null,
	key: string,
): Promise<Opened> {
	const { sessions, presence, sockets, config } = state;
	// Sign before deciding: once decided, everything up to the replay's start runs without an
	// await, so no publish can interleave between `welcome` and the replay (replay.ts keeps the
	// order from there).
	const fresh = crypto.randomUUID();
	const candidates = resumeSession === null ? [fresh] : [resumeSession, fresh];
	const tokens = await Promise.all(
		// No expiry of its own: the resume window runs from the session's last close, which a token
		// issued now cannot know. The session record enforces it (Sessions.isResumable); a token
		// expiring at "now + window" refused every connection older than the window.
		candidates.map((session) => signResumeToken({ room: info.room, sub: info.sub, session, exp: Number.MAX_SAFE_INTEGER }, key)),
	);

	const at = Date.now();
	const resumed = resumeSession !== null && sessions.isResumable(resumeSession, info.sub, at);
	const session = resumed && resumeSession !== null ? resumeSession : fresh;
	const resumeToken = (resumed ? tokens[0] : tokens[tokens.length - 1]) ?? "";
	const replaced = sockets.live(sessionTag(session));

	const pair = new WebSocketPair();
	const [client, server] = [pair[0], pair[1]];
	sockets.accept(server, info.sub, session);
	// Acknowledged up to the head: the send account counts what is sent from now on (§13).
	const ack = { seq: state.log.head(), cum: state.log.headCum() };
	writeAttachment(server, newAttachment({ session, sub: info.sub, name: info.name, exp: info.exp, mayPublish: info.mayPublish, at, ack }));
	state.accounts.connected(server, ack.cum);
	sessions.markConnected(session, info.sub, info.name);

	const leaves = presence.takeDueLeaves(at);
	for (const leave of leaves) sockets.broadcast(presenceFrame("leave", leave), server);
	const joined = presence.arrive(info.sub, info.name, at) ? { sub: info.sub, name: info.name } : null;

	const replay = replayFor(state.log, info.after, info.epoch);
	const heartbeat = { interval: config.heartbeatIntervalMs, timeout: config.heartbeatTimeoutMs };
	const facts = {
		session,
		resume: resumeToken,
		resumed,
		region: info.region,
		home: state.home,
		heartbeat,
		presence: presence.list(),
		epoch: state.log.epoch(),
	};
	sockets.send(server, welcomeFrame(facts, replay));
	if (replay.after !== null) replays.start(server, replay.after);
	if (joined !== null) sockets.broadcast(presenceFrame("join", joined), server);
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
