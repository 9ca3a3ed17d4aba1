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
	info: ConnectInfo,
	resumeSession: string | null,
	key: string,
): Promise<Opened> {
	const { sessions, presence, sockets, config } = state;
	// Sign before deciding: once decided, everything up to the last replayed frame runs without
	// an await, so no publish can interleave between `welcome` and the replay.
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
	writeAttachment(
		server,
		newAttachment({ session, sub: info.sub, name: info.name, exp: info.exp, mayPublish: info.mayPublish, at, tokens: config.rateLimitBurst }),
	);
	sessions.markConnected(session, info.sub, info.name);

	const leaves = presence.takeDueLeaves(at);
	for (const leave of leaves) sockets.broadcast(presenceFrame("leave", leave), server);
	const joined = presence.arrive(info.sub, info.name, at) ? { sub: info.sub, name: info.name } : null;

	const replay = replayFor(state.log, info.after);
	const heartbeat = { interval: config.heartbeatIntervalMs, timeout: config.heartbeatTimeoutMs };
	sockets.send(
		server,
		welcomeFrame({ session, resume: resumeToken, resumed, region: info.region, home: state.home, heartbeat, presence: presence.list() }, replay),
	);
	for (const frame of replay.messages) sockets.send(server, frame);
	if (joined !== null) sockets.broadcast(presenceFrame("join", joined), server);
	for (const [old, a] of replaced) disconnects.close(old, a, CloseCode.SessionReplaced, { code: "session_replaced" });

	state.metrics.count(MetricEvent.Connect, info.room, resumed ? "resumed" : "fresh");
	state.metrics.count(MetricEvent.Replay, info.room, "", replay.messages.length);
	log.info("connect", { room: info.room, requestId: info.requestId, session, sub: info.sub, resumed, replayed: replay.messages.length, gap: replay.gap });
	return { client, joined, leaves, at };
}
