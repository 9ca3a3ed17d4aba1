/**
 * The room Durable Object, as wiring only: each runtime entry point (fetch for the upgrade, RPC
 * for the HTTP routes and migrations, webSocketMessage/Close/Error, alarm) calls the module that
 * decides (admission, connect, inbound, publish, alarm, move, …) once and applies its result once.
 * Sockets are accepted with `ctx.acceptWebSocket` so the object can hibernate while they stay
 * open; everything about a connection lives in its attachment or in SQLite.
 */
import { DurableObject } from "cloudflare:workers";
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { PING, PONG, PROTOCOL, type PresenceEntry, type PublishFrame } from "../../protocol/messages.ts";
import { BindingName, namespaceOf } from "../../src/core/bindings.ts";
import { errorResponse } from "../../src/core/http-errors.ts";
import { CONNECT_HEADER, decodeConnectInfo } from "../../src/core/internal.ts";
import { log } from "../../src/core/log.ts";
import { type RoomTarget, roomOfObjectName, roomStub } from "../../src/core/routing.ts";
import { admit, type ConnectHook, refusalResponse } from "./admission.ts";
import { AlarmClock } from "./alarm.ts";
import { type Attachment, isUnreadable, liveAttachment, writeAttachment } from "./attachment.ts";
import { openConnection } from "./connect.ts";
import { Disconnects } from "./disconnect.ts";
import {
	type ConnectDecision,
	type ConnectingClient,
	HOOK_TIMEOUT_MS,
	type PresenceMember,
	type PublishDecision,
	type PublishingMessage,
	runHook,
} from "./hooks.ts";
import { readInbound } from "./inbound.ts";
import { exportLegacyPage, importLegacyPage, isLegacyTable, type LegacyPage, type LegacyRow } from "./legacy-transfer.ts";
import { tokenDeadline } from "./liveness.ts";
import { MetaKey } from "./meta.ts";
import { completeMove, freeze, importBegin, importFinish, movedTo, unfreeze } from "./move.ts";
import { type PublishHook, PublishPipeline, publishResult, socketReply } from "./publish.ts";
import { ConnectionQueue } from "./publish-queue.ts";
import { countStrike } from "./rate-limit.ts";
import { acknowledge } from "./read-ack.ts";
import { Replays } from "./replay.ts";
import { historyPage, presencePage, roomInfo, roomStats } from "./reports.ts";
import { resumableSession } from "./resume.ts";
import { refuseBanned } from "./room-access.ts";
import { readServerPublish, type ServerPublishRequest } from "./server-publish.ts";
import { closeSlowConsumer, closeSlowConsumers } from "./slow-consumers.ts";
import { RoomState } from "./state.ts";
import { refreshToken } from "./token-refresh.ts";
import { exportChunk, importChunk, type TransferChunk, type TransferCursor, type TransferPage } from "./transfer.ts";
import type { HistoryPage, PresencePage, PublishResult, Refused, RoomAnswer, RoomInfo, RoomStats } from "./types.ts";

/**
 * A baton room: one Durable Object per room home, holding its sockets, its gapless message log
 * and every guarantee of CONTRACT.md §7. Extend it to add the app's logic at the named hooks;
 * each is optional, may be async, and only decides — dedupe, order, durability and close codes
 * stay baton's, whatever a hook returns or throws (docs/server-api.md).
 *
 * Hooks see the room's own storage (`this.ctx.storage.sql`, `this.ctx.storage.get/put`, which
 * move with the room in a migration) and `this.env`. The methods baton calls over RPC (`fetch`,
 * `publish`, `serverPublish`, `info`, `history`, `drain`, `kick`, `stats`, `freeze`, `unfreeze`,
 * `export*`, `import*`, `completeMove`, `presenceList`, `presencePage`) are reserved names.
 *
 * @example
 * import { BatonRoom, type PublishingMessage } from "baton-rooms/server";
 *
 * export class ChatRoom extends BatonRoom<Env> {
 *   override async onPublish(msg: PublishingMessage) {
 *     const text = (msg.data as { text?: unknown })?.text;
 *     if (typeof text !== "string") return { reject: { code: "invalid", message: "text required" } };
 *     return { data: { text: text.slice(0, 500) } };
 *   }
 * }
 */
export class BatonRoom<E = Cloudflare.Env> extends DurableObject<E> {
	/**
	 * How long the room waits for a hook (ms) before failing what it was asked about (a publish:
	 * error `internal`). Override it in a subclass (`static override hookTimeoutMs = 2000`).
	 */
	static hookTimeoutMs = HOOK_TIMEOUT_MS;

	/**
	 * Called for every authenticated upgrade, after the ban check and before capacity: return
	 * `{ reject: { code, message } }` to refuse it (the client gets 4003 `forbidden`; the code and
	 * message go to the room's log only). A throw or a timeout refuses with 1011 `internal`.
	 *
	 * @example
	 * override async onConnect(conn: ConnectingClient) {
	 *   if (conn.claims.banned === true) return { reject: { code: "banned", message: `${conn.sub} is banned` } };
	 * }
	 */
	onConnect?(conn: ConnectingClient): ConnectDecision | Promise<ConnectDecision>;

	/**
	 * Called for every publish that passed dedupe, the freeze, the rate limit and the publish
	 * claim — socket, HTTP and `roomClient` alike — one at a time per connection, before a seq is
	 * assigned. Return nothing to store the data as sent, `{ data }` to store that instead, or
	 * `{ reject: { code, message } }` to refuse (error frame with that code / HTTP 422). A throw or
	 * a timeout fails the publish with `internal`. At least once: after a crash before the commit, a
	 * re-sent publish runs it again.
	 *
	 * @example
	 * override async onPublish(msg: PublishingMessage) {
	 *   if (msg.source !== "server" && typeof (msg.data as { vote?: unknown }).vote !== "string") {
	 *     return { reject: { code: "invalid_vote", message: "vote must be a string" } };
	 *   }
	 * }
	 */
	onPublish?(msg: PublishingMessage): PublishDecision | Promise<PublishDecision>;

	/**
	 * Called after a sub's `join` was announced (its first live connection). Its result is not
	 * awaited by the connection; errors are logged.
	 *
	 * @example
	 * override onJoin(entry: PresenceMember) { this.ctx.storage.sql.exec("INSERT INTO seen (sub) VALUES (?) ON CONFLICT DO NOTHING", entry.sub); }
	 */
	onJoin?(entry: PresenceMember): void | Promise<void>;

	/**
	 * Called after a sub's `leave` was announced (its last connection gone and its grace passed).
	 *
	 * @example
	 * override async onLeave(entry: PresenceMember) { await this.ctx.storage.delete(`typing:${entry.sub}`); }
	 */
	onLeave?(entry: PresenceMember): void | Promise<void>;

	readonly #state: RoomState;
	readonly #disconnects: Disconnects;
	readonly #clock: AlarmClock;
	readonly #publishes: PublishPipeline;
	readonly #replays: Replays;
	readonly #queue = new ConnectionQueue();
	readonly #hookTimeoutMs: number;
	/** onJoin / onLeave calls, chained so they run in the order presence changed. */
	#notices: Promise<void> = Promise.resolve();

	constructor(ctx: DurableObjectState, env: E) {
		super(ctx, env);
		const state = new RoomState(ctx, env);
		this.#state = state;
		this.#hookTimeoutMs = new.target.hookTimeoutMs;
		this.#disconnects = new Disconnects(state);
		this.#clock = new AlarmClock(state, this.#disconnects);
		this.#publishes = new PublishPipeline(
			state,
			() => this.#publishHook(),
			this.#hookTimeoutMs,
			(headCum) => closeSlowConsumers(state, this.#disconnects, headCum),
		);
		this.#replays = new Replays(state, (ws) => closeSlowConsumer(this.#disconnects, ws));
		state.counters.countWakeup();
		// One line per construction: evictions (hibernation) show up as a new wake with sockets open.
		// A new room has no name stored yet: the object's own name (`room` or `room@gen`) says it.
		log.info("room_wake", {
			room: state.meta.getString(MetaKey.Room) ?? roomOfObjectName(ctx.id.name),
			wakeups: state.counters.wakeups(),
			sockets: ctx.getWebSockets().length,
		});
		// The runtime answers `ping` itself: a room whose clients only ping is never woken for it.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
		this.#disconnects.reconcile(Date.now());
	}

	/** True while a migration freezes the room: app code must not write then (its writes may not move). */
	get moving(): boolean {
		return this.#state.moving;
	}

	#publishHook(): PublishHook | null {
		const hook = this.onPublish;
		return hook === undefined ? null : (msg) => hook.call(this, msg);
	}

	#connectHook(): ConnectHook | null {
		const hook = this.onConnect;
		return hook === undefined ? null : (conn) => hook.call(this, conn);
	}

	/** Tells onJoin / onLeave, in order, without holding up the event that changed presence. */
	#notify(hook: "onJoin" | "onLeave", members: readonly PresenceEntry[]): void {
		const call = this[hook];
		if (call === undefined || members.length === 0) return;
		const room = this.#state.roomName;
		this.#notices = this.#notices.then(async () => {
			for (const m of members) await runHook(hook, room, this.#hookTimeoutMs, () => call.call(this, { sub: m.sub, name: m.name }));
		});
		this.ctx.waitUntil(this.#notices);
	}

	/** The current home of a room that moved away: every call is forwarded there (CONTRACT.md §8). */
	#forward(): DurableObjectStub<BatonRoom<unknown>> | null {
		const target = movedTo(this.#state);
		return target === null ? null : roomStub({ ROOMS: namespaceOf<BatonRoom<unknown>>(this.env, BindingName.Rooms) }, this.#state.roomName, target);
	}

	// ---------------------------------------------------------------- connect

	override async fetch(request: Request): Promise<Response> {
		const forward = this.#forward();
		if (forward !== null) return forward.fetch(request);
		const info = decodeConnectInfo(request.headers.get(CONNECT_HEADER));
		if (info === null || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
			return errorResponse(ErrorCode.NotFound, "rooms are reached through the gateway");
		}
		const state = this.#state;
		state.identify(info.room, info.homeHint);
		// A resume token that does not hold (altered, another room or sub, expired) starts a fresh session (§4).
		const resumeSession = info.resume === null ? null : await resumableSession(state, info.resume, { room: info.room, sub: info.sub }, Date.now());
		const client = { room: info.room, sub: info.sub, name: info.name, claims: info.claims };
		const refused = await admit(state, { client, resumeSession }, this.#connectHook(), this.#hookTimeoutMs);
		if (refused !== null) return refusalResponse(refused);
		const opened = openConnection(state, this.#disconnects, this.#replays, info, resumeSession);
		this.#notify("onLeave", opened.leaves);
		if (opened.joined !== null) this.#notify("onJoin", [opened.joined]);
		await this.#clock.armForNewSocket(opened.at, info.exp);
		return new Response(null, { status: 101, webSocket: opened.client, headers: info.subprotocol ? { "Sec-WebSocket-Protocol": PROTOCOL } : {} });
	}

	// ---------------------------------------------------------------- frames

	override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		const a = liveAttachment(ws);
		if (a === null) {
			if (isUnreadable(ws)) this.#disconnects.closeUnreadable(ws);
			return;
		}
		const state = this.#state;
		const inbound = readInbound(a, message, Date.now(), { maxMessageBytes: state.config.maxMessageBytes, head: () => state.log.head() });
		if (inbound.kind === "close") {
			this.#disconnects.close(ws, a, inbound.code, inbound.reason);
			return;
		}
		if (inbound.kind === "publish") {
			// Queued behind an earlier publish of this socket: save what this frame changed now.
			if (this.#queue.busy(ws)) writeAttachment(ws, a);
			return this.#queue.run(ws, (deferred) => this.#publishFromSocket(ws, inbound.frame, deferred ? liveAttachment(ws) : a));
		}
		if (inbound.kind === "read") acknowledge(state, ws, a, inbound.seq);
		writeAttachment(ws, a);
		if (inbound.kind === "error") return state.sockets.send(ws, inbound.frame);
		if (inbound.kind !== "auth") return;
		const refreshed = await refreshToken(state, ws, inbound.token);
		if (refreshed.kind === "replaced") await this.#clock.armBy(tokenDeadline(refreshed.exp), Date.now());
		// A refused token is a protocol error (§13), unless this frame already counted as one.
		if (refreshed.kind === "refused" && !inbound.struck) this.#strike(ws);
	}

	/** Counts one protocol error on `ws` (read fresh: other frames may have been handled since); the 10th closes 1008. */
	#strike(ws: WebSocket): void {
		const a = liveAttachment(ws);
		if (a === null) return;
		if (countStrike(a, Date.now())) this.#disconnects.close(ws, a, CloseCode.PolicyViolation, { code: ErrorCode.BadMessage });
		else writeAttachment(ws, a);
	}

	#publishFromSocket(ws: WebSocket, frame: PublishFrame, a: Attachment | null): void | Promise<void> {
		if (a === null) return;
		const input = {
			source: "socket",
			scope: a.session,
			id: frame.id,
			from: a.sub,
			data: frame.data,
			connection: { attachment: a, save: () => writeAttachment(ws, a) },
		} as const;
		const outcome = this.#publishes.run(input, Date.now());
		const answer = (reply: ReturnType<typeof socketReply>): void => {
			if ("close" in reply) this.#disconnects.close(ws, a, reply.close.code, reply.close.reason);
			else this.#state.sockets.send(ws, reply.frame);
		};
		if (outcome instanceof Promise) return outcome.then((o) => answer(socketReply(frame.id, o)));
		answer(socketReply(frame.id, outcome));
	}

	override async webSocketClose(ws: WebSocket, code: number, _reason: string, _wasClean: boolean): Promise<void> {
		this.#notify("onLeave", this.#disconnects.peerClosed(ws, code));
		await this.#clock.settle(Date.now());
	}

	override async webSocketError(ws: WebSocket, _error: unknown): Promise<void> {
		this.#disconnects.gone(ws, CloseCode.Abnormal);
		await this.#clock.settle(Date.now());
	}

	// ---------------------------------------------------------------- alarm

	override async alarm(): Promise<void> {
		this.#notify("onLeave", await this.#clock.run(Date.now()));
	}

	// ---------------------------------------------------------------- RPC (HTTP routes)

	/**
	 * `GET /v1/rooms/:room`, as `viewer` (the token's sub) sees it: a banned viewer is refused
	 * (CONTRACT.md §13). The `view*` methods are this version's; `info`, `presencePage` and
	 * `history` keep the previous version's shapes for a gateway still on it (a gradual deploy).
	 */
	async viewInfo(room: string, viewer: string): Promise<RoomAnswer<RoomInfo>> {
		const forward = this.#forward();
		if (forward !== null) return forward.viewInfo(room, viewer);
		this.#state.identify(room, null);
		return this.#banned(viewer) ?? { ok: true, value: roomInfo(this.#state, room) };
	}

	/** `GET /v1/rooms/:room/presence`, as `viewer` sees it: `after` is the decoded cursor (the last sub of the page before). */
	async viewPresence(room: string, after: string | null, limit: number, viewer: string): Promise<RoomAnswer<PresencePage>> {
		const forward = this.#forward();
		if (forward !== null) return forward.viewPresence(room, after, limit, viewer);
		this.#state.identify(room, null);
		return this.#banned(viewer) ?? { ok: true, value: presencePage(this.#state, after, limit) };
	}

	/** `GET /v1/rooms/:room/messages`, as `viewer` sees it: the page's JSON text (reports.ts says why). */
	async viewHistory(room: string, after: number, limit: number, viewer: string): Promise<RoomAnswer<string>> {
		const forward = this.#forward();
		if (forward !== null) return forward.viewHistory(room, after, limit, viewer);
		this.#state.identify(room, null);
		return this.#banned(viewer) ?? { ok: true, value: historyPage(this.#state, after, limit) };
	}

	/** The previous version's `GET /v1/rooms/:room` (no viewer, so no ban check: its gateway had none). */
	async info(room: string): Promise<RoomInfo> {
		const forward = this.#forward();
		if (forward !== null) return forward.info(room);
		this.#state.identify(room, null);
		return roomInfo(this.#state, room);
	}

	/** The previous version's presence page. */
	async presencePage(room: string, after: string | null, limit: number): Promise<PresencePage> {
		const forward = this.#forward();
		if (forward !== null) return forward.presencePage(room, after, limit);
		this.#state.identify(room, null);
		return presencePage(this.#state, after, limit);
	}

	/** The previous version's history page, as an object. */
	async history(room: string, after: number, limit: number): Promise<HistoryPage> {
		const forward = this.#forward();
		if (forward !== null) return forward.history(room, after, limit);
		this.#state.identify(room, null);
		return JSON.parse(historyPage(this.#state, after, limit)) as HistoryPage;
	}

	#banned(viewer: string | undefined): Refused | null {
		return viewer === undefined ? null : refuseBanned(this.#state, viewer, Date.now());
	}

	/** `POST /v1/rooms/:room/messages`: dedupe scope is the sub, as (sub, id); the sub's bucket applies. */
	async publish(room: string, sub: string, id: string | null, data: unknown, homeHint: string): Promise<PublishResult> {
		const forward = this.#forward();
		if (forward !== null) return forward.publish(room, sub, id, data, homeHint);
		this.#state.identify(room, homeHint);
		const now = Date.now();
		const banned = refuseBanned(this.#state, sub, now);
		if (banned !== null) return banned;
		const input = { source: "http", scope: `http:${sub}`, id: id ?? crypto.randomUUID(), from: sub, data } as const;
		return publishResult(await this.#publishes.run(input, now));
	}

	/** `roomClient(env.ROOMS, room).publish(data, { id, from })`: dedupe scope is (from, id), source "server". */
	async serverPublish(room: string, request: ServerPublishRequest): Promise<PublishResult> {
		const forward = this.#forward();
		if (forward !== null) return forward.serverPublish(room, request);
		const parsed = readServerPublish(request, this.#state.config.maxMessageBytes);
		this.#state.identify(room, typeof request.home === "string" ? request.home : null);
		if (typeof parsed === "string") return { ok: false, code: ErrorCode.BadRequest, message: parsed };
		const input = { source: "server", scope: `server:${parsed.from}`, id: parsed.id ?? crypto.randomUUID(), from: parsed.from, data: parsed.data } as const;
		return publishResult(await this.#publishes.run(input, Date.now()));
	}

	/** Admin drain: every socket gets 1012 with a `retryIn` spread over the drain window. */
	async drain(room: string): Promise<{ closed: number }> {
		const forward = this.#forward();
		if (forward !== null) return forward.drain(room);
		this.#state.identify(room, null);
		const { closed, windowMs } = this.#disconnects.drain();
		await this.#clock.settle(Date.now());
		log.info("drain", { room, closed, windowMs });
		return { closed };
	}

	/** Admin kick: closes every connection of `sub` with 4003; with `banSeconds`, refuses it until then. */
	async kick(room: string, sub: string, banSeconds: number | null): Promise<{ closed: number }> {
		const forward = this.#forward();
		if (forward !== null) return forward.kick(room, sub, banSeconds);
		this.#state.identify(room, null);
		if (banSeconds !== null && banSeconds > 0) this.#state.bans.ban(sub, Date.now() + banSeconds * 1000);
		const closed = this.#disconnects.closeSub(sub, CloseCode.Forbidden, { code: ErrorCode.Forbidden });
		await this.#clock.settle(Date.now());
		log.info("kick", { room, sub, closed });
		return { closed };
	}

	/** Admin stats (CONTRACT.md §3, §9). */
	async stats(room: string): Promise<RoomStats> {
		const forward = this.#forward();
		if (forward !== null) return forward.stats(room);
		this.#state.identify(room, null);
		return roomStats(this.#state, room);
	}

	// ---------------------------------------------------------------- migration (CONTRACT.md §8, run by the anchor)

	async freeze(room: string): Promise<{ seq: number; epoch: string }> {
		return freeze(this.#state, room);
	}

	async unfreeze(): Promise<void> {
		unfreeze(this.#state);
	}

	/** A page of the copy (transfer.ts), read from this frozen old home. */
	async exportChunk(cursor: TransferCursor): Promise<TransferPage> {
		return exportChunk(this.ctx.storage, cursor);
	}

	async importBegin(room: string, home: string, gen: number): Promise<void> {
		await importBegin(this.#state, room, home, gen);
	}

	async importChunk(chunk: TransferChunk): Promise<void> {
		await importChunk(this.ctx.storage, chunk);
	}

	/** The previous version's copy (legacy-transfer.ts), for an anchor that still speaks it. */
	async exportTable(table: string, cursor: number): Promise<LegacyPage> {
		if (!isLegacyTable(table)) throw new RangeError(`no table ${table} to export`);
		return exportLegacyPage(this.ctx.storage.sql, table, cursor);
	}

	async importTable(table: string, rows: LegacyRow[]): Promise<void> {
		if (!isLegacyTable(table)) throw new RangeError(`no table ${table} to import`);
		this.ctx.storage.transactionSync(() => importLegacyPage(this.ctx.storage.sql, table, rows));
	}

	/** `epoch`: the old home's log epoch (null from an anchor older than epochs: the new home makes one). */
	async importFinish(seq: number, epoch: string | null = null): Promise<void> {
		importFinish(this.#state, seq, epoch);
	}

	async completeMove(target: RoomTarget): Promise<{ moved: number }> {
		const moved = await completeMove(this.#state, this.#disconnects, target);
		await this.#clock.settle(Date.now());
		return moved;
	}

	/** Who is present, for tests and the info route. */
	presenceList(): PresenceEntry[] {
		return this.#state.presence.list();
	}
}
