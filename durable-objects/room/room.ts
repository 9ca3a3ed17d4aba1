/**
 * The room Durable Object: a thin class that wires the runtime's entry points (fetch for the
 * upgrade, RPC for HTTP routes, webSocketMessage/Close/Error, alarm) to the small modules beside
 * it. Sockets are accepted with `ctx.acceptWebSocket` so the object can hibernate while they
 * stay open; everything about a connection lives in its attachment or in SQLite.
 */
import { DurableObject } from "cloudflare:workers";
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import {
	type MessageFrame,
	MessageType,
	PING,
	PONG,
	PROTOCOL,
	type PresenceEntry,
	type PublishFrame,
	parseClientFrame,
	type ServerFrame,
	type WelcomeFrame,
} from "../../protocol/messages.ts";
import { signResumeToken, verifyResumeToken } from "../../src/core/auth/resume-token.ts";
import { mayPublish, roomAllowed } from "../../src/core/auth/roles.ts";
import { verifierFor } from "../../src/core/auth/verify.ts";
import { type Config, readConfig } from "../../src/core/config.ts";
import { errorResponse, RETRY_IN_HEADER } from "../../src/core/http-errors.ts";
import { CONNECT_HEADER, type ConnectInfo, decodeConnectInfo } from "../../src/core/internal.ts";
import { log } from "../../src/core/log.ts";
import { parseRoomTarget, type RoomTarget, roomStub } from "../../src/core/routing.ts";
import { closeSocket } from "../../src/core/socket-close.ts";
import { ATTACHMENT_VERSION, type Attachment, liveAttachment, readAttachment, writeAttachment } from "./attachment.ts";
import { isSilentTooLong, type LivenessSettings, nextAlarmTime, silenceCheckTime, silenceDeadline, tokenDeadline } from "./liveness.ts";
import { MessageLog } from "./message-log.ts";
import { Meta, MetaKey } from "./meta.ts";
import { countRefusal, countStrike, noteRateOutcome, type RateSettings, takePublishToken, waitsBehindRefused } from "./rate-limit.ts";
import { resumeKey } from "./resume-key.ts";
import { applySchema } from "./schema.ts";
import { Bans, Presence, Sessions } from "./sessions.ts";
import { RoomCounters } from "./stats.ts";
import { clearTransferred, exportPage, importPage, type TransferPage, type TransferRow, type TransferTable } from "./transfer.ts";
import type { HistoryPage, PublishResult, RoomInfo, RoomStats } from "./types.ts";

/** `retryIn` of a refused upgrade: a base plus a spread, so refused clients do not return together. */
const ROOM_FULL_RETRY = { baseMs: 1000, spreadMs: 4000 };
const ROOM_MOVING_RETRY = { baseMs: 500, spreadMs: 1000 };
const retryInFrom = (r: { baseMs: number; spreadMs: number }) => r.baseMs + Math.floor(Math.random() * r.spreadMs);

const subTag = (sub: string) => `s:${sub}`;
const sessionTag = (session: string) => `x:${session}`;

/** UTF-8 byte length, computed only when the string could be over the limit. */
function exceedsBytes(text: string, max: number): boolean {
	if (text.length * 3 <= max) return false;
	return new TextEncoder().encode(text).length > max;
}

export class Room extends DurableObject<Env> {
	private readonly config: Config;
	private readonly meta: Meta;
	private readonly log: MessageLog;
	private readonly sessions: Sessions;
	private readonly presence: Presence;
	private readonly bans: Bans;
	private readonly counters: RoomCounters;
	/** When this instance last ran the alarm; null after a wake (the bound then comes from the deadline). */
	private lastAlarmRun: number | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.config = readConfig(env);
		const sql = ctx.storage.sql;
		applySchema(sql);
		this.meta = new Meta(sql);
		this.log = new MessageLog(ctx.storage, this.meta, this.config.historyLimit);
		this.sessions = new Sessions(sql);
		this.presence = new Presence(sql);
		this.bans = new Bans(sql);
		this.counters = new RoomCounters(sql);
		this.counters.countWakeup();
		// One line per construction: evictions (hibernation) show up as a new wake with sockets open.
		log.info("room_wake", { room: this.meta.getString(MetaKey.Room), wakeups: this.counters.wakeups(), sockets: ctx.getWebSockets().length });
		// The runtime answers `ping` itself: a room whose clients only ping is never woken for it.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
		this.reconcile(Date.now());
	}

	private get liveness(): LivenessSettings {
		return { intervalMs: this.config.heartbeatIntervalMs, timeoutMs: this.config.heartbeatTimeoutMs };
	}

	private get rate(): RateSettings {
		return { perSec: this.config.rateLimitPerSec, burst: this.config.rateLimitBurst };
	}

	private get roomName(): string {
		return this.meta.getString(MetaKey.Room) ?? "";
	}

	private get home(): string {
		return this.meta.getString(MetaKey.Home) ?? this.config.region ?? this.config.regions[0] ?? "wnam";
	}

	/** Records the room's name and, for a new room, its home (first contact wins). */
	private identify(room: string, homeHint: string | null): void {
		if (this.meta.getString(MetaKey.Room) === null) this.meta.set(MetaKey.Room, room);
		if (homeHint !== null && this.meta.getString(MetaKey.Home) === null) this.meta.set(MetaKey.Home, homeHint);
	}

	/**
	 * After a crash the runtime drops sockets without close events: sessions and presence rows
	 * that still say "connected" but have no socket are closed out here, on every construction.
	 */
	private reconcile(now: number): void {
		for (const session of this.sessions.connectedSessions()) {
			if (this.liveSockets(sessionTag(session)).length === 0) this.sessions.markDisconnected(session, now + this.config.resumeWindowMs);
		}
		for (const entry of this.presence.list()) {
			if (this.liveSockets(subTag(entry.sub)).length === 0) this.presence.depart(entry.sub, now + this.config.heartbeatIntervalMs);
		}
	}

	/** Open sockets the room still serves, with their attachments. */
	private liveSockets(tag?: string): Array<[WebSocket, Attachment]> {
		const out: Array<[WebSocket, Attachment]> = [];
		for (const ws of this.ctx.getWebSockets(tag)) {
			const a = liveAttachment(ws);
			if (a !== null) out.push([ws, a]);
		}
		return out;
	}

	/**
	 * Open sockets (with `tag`), counted from readyState alone: the connect path runs this for
	 * every upgrade, and reading every attachment there made a connect cost O(room size).
	 */
	private openSocketCount(tag?: string): number {
		let open = 0;
		for (const ws of this.ctx.getWebSockets(tag)) if (ws.readyState === WebSocket.OPEN) open++;
		return open;
	}

	private send(ws: WebSocket, frame: ServerFrame): void {
		try {
			ws.send(JSON.stringify(frame));
		} catch {
			// The peer is gone; its close event cleans up.
		}
	}

	/**
	 * Sends one frame to every open socket. Hot path (once per message, per socket): it checks
	 * readyState only — a socket the room closed is already CLOSING — and never deserializes
	 * attachments, which the fan-out profile showed to be a third of the room's JS time.
	 */
	private broadcast(frame: ServerFrame, except?: WebSocket): void {
		const text = JSON.stringify(frame);
		for (const ws of this.ctx.getWebSockets()) {
			if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
			try {
				ws.send(text);
			} catch {
				// As above.
			}
		}
	}

	// ---------------------------------------------------------------- connect

	override async fetch(request: Request): Promise<Response> {
		const forward = this.forward();
		if (forward !== null) return forward.fetch(request);
		const info = decodeConnectInfo(request.headers.get(CONNECT_HEADER));
		if (info === null || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
			return errorResponse(ErrorCode.NotFound, "rooms are reached through the gateway");
		}
		this.identify(info.room, info.homeHint);
		const key = resumeKey(this.ctx.storage.sql, this.config.jwtSecret);
		// A resume token that does not verify (altered, another room or sub) starts a fresh session (§4).
		const resumeSession = info.resume === null ? null : await verifyResumeToken(info.resume, key, { room: info.room, sub: info.sub });
		return this.acceptConnection(info, resumeSession, key);
	}

	private async acceptConnection(info: ConnectInfo, resumeSession: string | null, key: string): Promise<Response> {
		const now = Date.now();
		if (this.bans.isBanned(info.sub, now)) return errorResponse(ErrorCode.Forbidden, "access to this room is revoked");
		const replacing = resumeSession !== null && this.openSocketCount(sessionTag(resumeSession)) > 0;
		if (this.openSocketCount() - (replacing ? 1 : 0) >= this.config.maxConnectionsPerRoom) {
			return refusal(ErrorCode.RoomFull, "the room is full", retryInFrom(ROOM_FULL_RETRY));
		}
		// While a migration copies this room, a session created here would miss the copy and be
		// unknown at the next home (its client would come back as a stranger). New sessions are
		// told to retry shortly (1013); sessions that exist here, and so are in the copy, resume.
		if (this.meta.getNumber(MetaKey.Moving) !== null && !(resumeSession !== null && this.sessions.isResumable(resumeSession, info.sub, now))) {
			return refusal(ErrorCode.RoomMoving, "the room is moving to another region", retryInFrom(ROOM_MOVING_RETRY));
		}
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
		const resumed = resumeSession !== null && this.sessions.isResumable(resumeSession, info.sub, at);
		const session = resumed && resumeSession !== null ? resumeSession : fresh;
		const resumeToken = (resumed ? tokens[0] : tokens[tokens.length - 1]) ?? "";
		const replaced = this.liveSockets(sessionTag(session));

		const pair = new WebSocketPair();
		const [client, server] = [pair[0], pair[1]];
		this.ctx.acceptWebSocket(server, [subTag(info.sub), sessionTag(session)]);
		const attachment: Attachment = {
			v: ATTACHMENT_VERSION,
			session,
			sub: info.sub,
			name: info.name,
			exp: info.exp,
			mayPublish: info.mayPublish,
			connectedAt: at,
			lastSeen: at,
			tokens: this.config.rateLimitBurst,
			tokensAt: at,
			strikes: [],
			refusals: 0,
			refusalsAt: 0,
		};
		writeAttachment(server, attachment);
		this.sessions.markConnected(session, info.sub, info.name);

		for (const leave of this.presence.takeDueLeaves(at)) this.broadcast({ type: MessageType.Presence, event: "leave", ...leave }, server);
		const joined = this.presence.arrive(info.sub, info.name, at);

		const replay = this.replayFor(info.after);
		const welcome: WelcomeFrame = {
			type: MessageType.Welcome,
			session,
			resume: resumeToken,
			seq: replay.head,
			resumed,
			replayed: replay.messages.length,
			gap: replay.gap,
			region: info.region,
			home: this.home,
			heartbeat: { interval: this.config.heartbeatIntervalMs, timeout: this.config.heartbeatTimeoutMs },
			presence: this.presence.list(),
		};
		this.send(server, welcome);
		for (const frame of replay.messages) this.send(server, frame);
		if (joined) this.broadcast({ type: MessageType.Presence, event: "join", sub: info.sub, name: info.name }, server);
		for (const [old, a] of replaced) this.closeConnection(old, a, CloseCode.SessionReplaced, { code: "session_replaced" });

		log.info("connect", { room: info.room, session, sub: info.sub, resumed, replayed: replay.messages.length, gap: replay.gap });
		await this.armAlarmBy(Math.min(silenceDeadline(at, this.liveness), tokenDeadline(info.exp)), at);
		const headers: Record<string, string> = info.subprotocol ? { "Sec-WebSocket-Protocol": PROTOCOL } : {};
		return new Response(null, { status: 101, webSocket: client, headers });
	}

	private replayFor(after: number | null): { head: number; messages: MessageFrame[]; gap: boolean } {
		const head = this.log.head();
		if (after === null || after >= head) return { head, messages: [], gap: false };
		const oldest = this.log.oldest();
		const gap = oldest === null || oldest > after + 1;
		return { head, messages: this.log.range(after, head - after), gap };
	}

	// ---------------------------------------------------------------- frames

	override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		const a = liveAttachment(ws);
		if (a === null) return;
		const now = Date.now();
		a.lastSeen = now;
		if (typeof message !== "string") {
			this.closeConnection(ws, a, CloseCode.UnsupportedData, { code: ErrorCode.BadMessage });
			return;
		}
		if (exceedsBytes(message, this.config.maxMessageBytes)) {
			this.closeConnection(ws, a, CloseCode.MessageTooBig, { code: ErrorCode.TooLarge });
			return;
		}
		if (tokenDeadline(a.exp) <= now) {
			this.closeConnection(ws, a, CloseCode.Unauthorized, { code: ErrorCode.Unauthorized });
			return;
		}
		const parsed = parseClientFrame(message);
		if (!parsed.ok) {
			if (countStrike(a, now)) {
				this.closeConnection(ws, a, CloseCode.PolicyViolation, { code: ErrorCode.BadMessage });
				return;
			}
			writeAttachment(ws, a);
			this.send(ws, { type: MessageType.Error, code: ErrorCode.BadMessage, message: parsed.reason, ...(parsed.id === undefined ? {} : { id: parsed.id }) });
			return;
		}
		if (parsed.value.type === MessageType.Publish) {
			this.publishFromSocket(ws, a, parsed.value, now);
			return;
		}
		writeAttachment(ws, a);
		await this.refreshToken(ws, parsed.value.token);
	}

	private publishFromSocket(ws: WebSocket, a: Attachment, frame: PublishFrame, now: number): void {
		// A read-only token (its `publish` claim lacks this room): refused, not a protocol error (§11).
		if (!a.mayPublish) {
			writeAttachment(ws, a);
			this.send(ws, { type: MessageType.Error, code: ErrorCode.Forbidden, message: "the token may not publish in this room", id: frame.id });
			return;
		}
		const dupSeq = this.log.findDuplicate(a.session, frame.id);
		if (dupSeq !== null) {
			writeAttachment(ws, a);
			this.send(ws, { type: MessageType.Ack, id: frame.id, seq: dupSeq, dup: true });
			return;
		}
		if (this.meta.getNumber(MetaKey.Moving) !== null) {
			writeAttachment(ws, a);
			this.send(ws, { type: MessageType.Error, code: ErrorCode.RoomMoving, message: "the room is moving; publish again after reconnecting", id: frame.id });
			return;
		}
		const waits = waitsBehindRefused(a, frame.id, now);
		const accepted = !waits && takePublishToken(a, now, this.rate);
		noteRateOutcome(a, frame.id, accepted, waits, now);
		if (!accepted) {
			if (countRefusal(a, now, this.rate)) {
				this.closeConnection(ws, a, CloseCode.RateLimited, { code: ErrorCode.RateLimited });
				return;
			}
			writeAttachment(ws, a);
			this.send(ws, { type: MessageType.Error, code: ErrorCode.RateLimited, message: "publish rate exceeded", id: frame.id });
			return;
		}
		writeAttachment(ws, a);
		const result = this.log.append({ scope: a.session, id: frame.id, from: a.sub, data: frame.data, now });
		if (result.frame) this.broadcast(result.frame);
		this.send(ws, { type: MessageType.Ack, id: frame.id, seq: result.seq, dup: result.dup });
	}

	/**
	 * In-band `auth`: a valid token of the same sub (still granting this room) replaces the old
	 * one, its expiry and its publish rights.
	 */
	private async refreshToken(ws: WebSocket, token: string): Promise<void> {
		const verified = await verifierFor(this.config)(token);
		const a = liveAttachment(ws);
		if (a === null) return;
		if (!verified.ok || verified.claims.sub !== a.sub || !roomAllowed(verified.claims, this.roomName)) {
			this.send(ws, { type: MessageType.Error, code: ErrorCode.Unauthorized, message: "token refused; the connection keeps its current token" });
			return;
		}
		a.exp = verified.claims.exp;
		a.mayPublish = mayPublish(verified.claims, this.roomName);
		writeAttachment(ws, a);
		this.send(ws, { type: MessageType.AuthOk, exp: verified.claims.exp });
		await this.armAlarmBy(tokenDeadline(a.exp), Date.now());
	}

	override async webSocketClose(ws: WebSocket, code: number, _reason: string, _wasClean: boolean): Promise<void> {
		const serverClosed = readAttachment(ws)?.closedWith !== undefined;
		this.socketGone(ws, code);
		// Complete a peer-initiated closing handshake (a no-op where the runtime already answered it).
		if (!serverClosed) closeSocket(ws, code === 1005 || code === 1006 ? CloseCode.Normal : code);
		await this.disarmIfEmpty();
		await this.armForLeaves(Date.now());
	}

	override async webSocketError(ws: WebSocket, _error: unknown): Promise<void> {
		this.socketGone(ws, CloseCode.Abnormal);
		await this.disarmIfEmpty();
		await this.armForLeaves(Date.now());
	}

	/** The peer closed or the socket failed: clean up once, whichever event came first. */
	private socketGone(ws: WebSocket, code: number): void {
		const a = readAttachment(ws);
		if (a === null || a.closedWith !== undefined) return;
		a.closedWith = code;
		writeAttachment(ws, a);
		this.afterClose(a, Date.now());
		log.info("disconnect", { room: this.roomName, session: a.session, code });
	}

	/** The one server-side close path: counts the code, marks the socket, cleans up once. */
	private closeConnection(ws: WebSocket, a: Attachment, code: CloseCode, reason: object): void {
		a.closedWith = code;
		writeAttachment(ws, a);
		this.counters.countClose(code);
		closeSocket(ws, code, reason);
		this.afterClose(a, Date.now());
		log.info("close", { room: this.roomName, session: a.session, code });
	}

	/** Session resume window and presence grace start when a session's / sub's last socket goes. */
	private afterClose(a: Attachment, now: number): void {
		if (this.liveSockets(sessionTag(a.session)).length === 0) this.sessions.markDisconnected(a.session, now + this.config.resumeWindowMs);
		if (this.liveSockets(subTag(a.sub)).length === 0) this.presence.depart(a.sub, now + this.config.heartbeatIntervalMs);
	}

	// ---------------------------------------------------------------- alarm

	/** Arms the alarm for `deadline` unless it is already armed sooner. */
	private async armAlarmBy(deadline: number, now: number, fromAlarm = false): Promise<void> {
		const at = nextAlarmTime(deadline, this.lastAlarmRun, now, this.liveness);
		// A running alarm has consumed the one that was armed: it always re-arms. Otherwise the
		// armed time is read back (a storage read, not a billed row write) and kept when sooner.
		if (!fromAlarm) {
			const armed = await this.ctx.storage.getAlarm();
			if (armed !== null && armed <= at && armed > now) return;
		}
		await this.ctx.storage.setAlarm(at);
	}

	/**
	 * A sub whose last socket went is announced as `leave` once its grace ends, so the alarm must
	 * be due by then (otherwise it would wait for the next heartbeat deadline, up to a timeout
	 * later). Every close the room sends is answered by the peer, so this runs for those too.
	 */
	private async armForLeaves(now: number): Promise<void> {
		const leaveAt = this.presence.nextLeaveAt();
		if (leaveAt === null || this.liveSockets().length === 0) return;
		await this.armAlarmBy(leaveAt, now);
	}

	/** A room with no sockets has no alarm pending (CONTRACT.md §7). */
	private async disarmIfEmpty(): Promise<void> {
		if (this.liveSockets().length > 0) return;
		await this.ctx.storage.deleteAlarm();
	}

	/**
	 * Liveness, token expiry and presence leaves, all from one alarm. Alarms are at-least-once:
	 * this only reads stored state and re-arms from it, so a repeated run is harmless.
	 */
	override async alarm(): Promise<void> {
		const now = Date.now();
		this.counters.countAlarmRun();
		// Each SQLite row written here is billed on every run of every idle room, so the run keeps
		// its last-run time in memory (it only bounds re-arming within this run) and the armed time
		// lives only in the alarm itself (`getAlarm()`), not in a row of its own.
		this.lastAlarmRun = now;
		let earliest = Number.POSITIVE_INFINITY;
		for (const [ws, a] of this.liveSockets()) {
			const auto = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
			const lastLife = Math.max(a.lastSeen, auto);
			if (isSilentTooLong(lastLife, now, this.liveness)) {
				this.counters.countHeartbeatTimeout();
				this.closeConnection(ws, a, CloseCode.HeartbeatTimeout, { code: "heartbeat_timeout" });
				continue;
			}
			if (tokenDeadline(a.exp) <= now) {
				this.closeConnection(ws, a, CloseCode.Unauthorized, { code: ErrorCode.Unauthorized });
				continue;
			}
			earliest = Math.min(earliest, silenceCheckTime(lastLife, this.liveness), tokenDeadline(a.exp));
		}
		for (const leave of this.presence.takeDueLeaves(now)) this.broadcast({ type: MessageType.Presence, event: "leave", ...leave });
		this.sessions.pruneExpired(now);
		this.log.pruneDedupe(now, this.config.resumeWindowMs);
		if (this.liveSockets().length === 0) {
			await this.disarmIfEmpty();
			return;
		}
		const nextLeave = this.presence.nextLeaveAt();
		if (nextLeave !== null) earliest = Math.min(earliest, nextLeave);
		if (Number.isFinite(earliest)) await this.armAlarmBy(earliest, now, true);
	}

	// ---------------------------------------------------------------- RPC (HTTP routes)

	/** `GET /v1/rooms/:room`. */
	async info(room: string): Promise<RoomInfo> {
		const forward = this.forward();
		if (forward !== null) return forward.info(room);
		this.identify(room, null);
		return { room, home: this.home, seq: this.log.head(), connections: this.liveSockets().length, presence: this.presence.list() };
	}

	/** `GET /v1/rooms/:room/messages`. */
	async history(room: string, after: number, limit: number): Promise<HistoryPage> {
		const forward = this.forward();
		if (forward !== null) return forward.history(room, after, limit);
		this.identify(room, null);
		return { messages: this.log.range(after, limit), seq: this.log.head(), oldest: this.log.oldest() };
	}

	/** `POST /v1/rooms/:room/messages`: dedupe scope is the sub, as (sub, id). */
	async publish(room: string, sub: string, id: string | null, data: unknown, homeHint: string): Promise<PublishResult> {
		const forward = this.forward();
		if (forward !== null) return forward.publish(room, sub, id, data, homeHint);
		this.identify(room, homeHint);
		if (this.meta.getNumber(MetaKey.Moving) !== null) return { ok: false, code: ErrorCode.RoomMoving };
		const result = this.log.append({ scope: `http:${sub}`, id: id ?? crypto.randomUUID(), from: sub, data, now: Date.now() });
		if (result.frame) this.broadcast(result.frame);
		return { ok: true, seq: result.seq, dup: result.dup };
	}

	/** Admin drain: every socket gets 1012 with a `retryIn` spread over the drain window. */
	async drain(room: string): Promise<{ closed: number }> {
		const forward = this.forward();
		if (forward !== null) return forward.drain(room);
		this.identify(room, null);
		const live = this.liveSockets();
		const windowMs = Math.min(this.config.drainWindowMs, Math.max(1000, live.length * 10));
		live.forEach(([ws, a], i) => {
			const retryIn = Math.floor((windowMs * (i + Math.random())) / Math.max(1, live.length));
			this.closeConnection(ws, a, CloseCode.ServiceRestart, { retryIn });
		});
		await this.disarmIfEmpty();
		log.info("drain", { room, closed: live.length, windowMs });
		return { closed: live.length };
	}

	/** Admin kick: closes every connection of `sub` with 4003; with `banSeconds`, refuses it until then. */
	async kick(room: string, sub: string, banSeconds: number | null): Promise<{ closed: number }> {
		const forward = this.forward();
		if (forward !== null) return forward.kick(room, sub, banSeconds);
		this.identify(room, null);
		const now = Date.now();
		if (banSeconds !== null && banSeconds > 0) this.bans.ban(sub, now + banSeconds * 1000);
		const live = this.liveSockets(subTag(sub));
		for (const [ws, a] of live) this.closeConnection(ws, a, CloseCode.Forbidden, { code: ErrorCode.Forbidden });
		await this.disarmIfEmpty();
		log.info("kick", { room, sub, closed: live.length });
		return { closed: live.length };
	}

	/** Admin stats (CONTRACT.md §3, §9). */
	async stats(room: string): Promise<RoomStats> {
		const forward = this.forward();
		if (forward !== null) return forward.stats(room);
		this.identify(room, null);
		const now = Date.now();
		return {
			room,
			home: this.home,
			seq: this.log.head(),
			oldest: this.log.oldest(),
			connections: this.liveSockets().length,
			sessions: this.sessions.countAlive(now),
			wakeups: this.counters.wakeups(),
			alarmRuns: this.counters.alarmRuns(),
			alarm: await this.ctx.storage.getAlarm(),
			closes: this.counters.closes(),
			heartbeatTimeouts: this.counters.heartbeatTimeouts(),
		};
	}

	// ---------------------------------------------------------------- migration (CONTRACT.md §8)

	/**
	 * Where this room's state went, if it moved. A stale route to an old home is forwarded to the
	 * current one, never served from this (wiped) copy.
	 */
	private forward(): DurableObjectStub<Room> | null {
		const target = parseRoomTarget(this.meta.getString(MetaKey.MovedTo));
		return target === null ? null : roomStub(this.env, this.roomName, target);
	}

	/** Step 1: refuse publishes (`room_moving`) so the copy is consistent. Returns the seq head. */
	async freeze(room: string): Promise<{ seq: number }> {
		this.identify(room, null);
		if (this.meta.getNumber(MetaKey.Moving) === null) this.meta.set(MetaKey.Moving, Date.now());
		return { seq: this.log.head() };
	}

	/** Rolls back an interrupted migration: this home keeps serving. */
	async unfreeze(): Promise<void> {
		this.meta.set(MetaKey.Moving, null);
	}

	/** Step 2: pages of durable state, read from the frozen old home. */
	async exportTable(table: TransferTable, cursor: number): Promise<TransferPage> {
		return exportPage(this.ctx.storage.sql, table, cursor);
	}

	/** Step 3 (new home): start from nothing, as generation `gen` of `room` homed in `home`. */
	async importBegin(room: string, home: string, gen: number): Promise<void> {
		clearTransferred(this.ctx.storage.sql);
		this.meta.set(MetaKey.Room, room);
		this.meta.set(MetaKey.Home, home);
		this.meta.set(MetaKey.Gen, gen);
		this.meta.set(MetaKey.Seq, 0);
		this.meta.set(MetaKey.Moving, null);
		this.meta.set(MetaKey.MovedTo, null);
	}

	async importTable(table: TransferTable, rows: TransferRow[]): Promise<void> {
		this.ctx.storage.transactionSync(() => importPage(this.ctx.storage.sql, table, rows));
	}

	/**
	 * Completes an import: the seq head, and every session/presence row starts its resume window
	 * and leave grace now, so clients that resume here at once neither lose their session nor flap.
	 */
	async importFinish(seq: number): Promise<void> {
		const now = Date.now();
		this.meta.set(MetaKey.Seq, seq);
		this.ctx.storage.sql.exec("UPDATE sessions SET expires_at = ? WHERE expires_at IS NULL", now + this.config.resumeWindowMs);
		this.ctx.storage.sql.exec("UPDATE presence SET leave_at = ? WHERE leave_at IS NULL", now + this.config.heartbeatIntervalMs);
	}

	/**
	 * Step 5 (old home, after the pointer flipped): tell every socket to move (4010), then wipe
	 * the stale copy and forward from now on. Idempotent: a repeated call moves nobody.
	 */
	async completeMove(target: RoomTarget): Promise<{ moved: number }> {
		const live = this.liveSockets();
		this.meta.set(MetaKey.MovedTo, JSON.stringify(target));
		for (const [ws, a] of live) this.closeConnection(ws, a, CloseCode.RoomMoved, { home: target.home, retryIn: 0 });
		clearTransferred(this.ctx.storage.sql);
		await this.disarmIfEmpty();
		log.info("moved", { room: this.roomName, to: target.home, gen: target.gen, moved: live.length });
		return { moved: live.length };
	}

	/** Who is present, for tests and the info route. */
	presenceList(): PresenceEntry[] {
		return this.presence.list();
	}
}

/** A refused upgrade as the gateway expects it: the JSON error plus the `retryIn` to close with. */
function refusal(code: ErrorCode, message: string, retryIn: number): Response {
	return errorResponse(code, message, { headers: { [RETRY_IN_HEADER]: String(retryIn), "Retry-After": String(Math.ceil(retryIn / 1000)) } });
}
