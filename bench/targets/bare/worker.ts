/**
 * Bench target "bare": the least a hibernation Durable Object can do for a room. Every text frame
 * is broadcast to every socket (sender included); `ping` is answered `pong`.
 *
 * One class per variant (the auto-response is set per object), chosen with `?variant=`:
 * - `AutoPingRoom` (default): the runtime answers `ping` itself and never wakes the object.
 * - `ManualPingRoom` (`manual`): `ping` reaches `webSocketMessage`, as in a room without
 *   auto-response; it counts those wakes for the ping-cost comparison.
 * - `PersistRoom` (`persist`) and `AttachRoom` (`attach`): ablations that add one cost baton pays
 *   to the floor — a SQLite insert per message; a per-socket attachment read back on every send.
 * - `CountRoom` (`count`): the welcome-sized first frame plus a `presence_count`-like frame to
 *   every socket at most once per second (baton's count mode, CONTRACT.md §12).
 * - `SinkRoom` (`sink`): a `webSocketMessage` that does nothing (it answers only `mark`, so a
 *   caller knows its frames were handled): the runtime's cost of one JavaScript event per frame.
 * - `PresenceRoom` (`presence`, with `&sub=<id>`): the default room plus the frames baton's
 *   contract makes it send on connect — a `welcome`-sized first frame (about 300 bytes of JSON) to
 *   the new socket and a presence `join` for `<id>` to every other socket. Nothing else of baton
 *   (no auth, state, attachment or storage): the memory diagnostic of the presence traffic alone.
 *
 * `GET /rooms/:room/stats[?variant=…]` answers `{"wakeups","pings","sockets"}`: constructions and
 * pings handled in JavaScript, persisted in SQLite so evictions do not reset them. A construction
 * whose first event is the stats request itself is not counted as a wakeup.
 */
import { DurableObject } from "cloudflare:workers";

interface Env {
	AUTO: DurableObjectNamespace<AutoPingRoom>;
	MANUAL: DurableObjectNamespace<ManualPingRoom>;
	PERSIST: DurableObjectNamespace<PersistRoom>;
	ATTACH: DurableObjectNamespace<AttachRoom>;
	PRESENCE: DurableObjectNamespace<PresenceRoom>;
	WELCOME: DurableObjectNamespace<WelcomeRoom>;
	COUNT: DurableObjectNamespace<CountRoom>;
	SINK: DurableObjectNamespace<SinkRoom>;
}

const PING = "ping";
const PONG = "pong";

class BareRoom extends DurableObject<Env> {
	/** Events handled by this instance (in memory: it starts at 0 on every construction). */
	protected events = 0;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL)");
		this.count("wakeups");
	}

	protected count(name: string): void {
		this.ctx.storage.sql.exec("INSERT INTO counters (name, n) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET n = n + 1", name);
	}

	private counter(name: string): number {
		const row = this.ctx.storage.sql.exec<{ n: number }>("SELECT n FROM counters WHERE name = ?", name).toArray()[0];
		return row?.n ?? 0;
	}

	override async fetch(request: Request): Promise<Response> {
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
			if (this.events++ === 0) this.count("stats_wakes");
			const wakeups = this.counter("wakeups") - this.counter("stats_wakes");
			return Response.json({ wakeups, pings: this.counter("pings"), sockets: this.ctx.getWebSockets().length });
		}
		this.events++;
		const pair = new WebSocketPair();
		this.ctx.acceptWebSocket(pair[1]);
		this.accepted(pair[1], request);
		return new Response(null, { status: 101, webSocket: pair[0] });
	}

	/** Hook for variants that keep per-socket state. */
	protected accepted(_ws: WebSocket, _request: Request): void {}

	override async webSocketMessage(_ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		this.events++;
		if (typeof message !== "string") return;
		for (const peer of this.ctx.getWebSockets()) {
			try {
				peer.send(message);
			} catch {
				// Closing peer; its close event follows.
			}
		}
	}

	override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
		this.events++;
		try {
			ws.close(code === 1005 || code === 1006 ? 1000 : code);
		} catch {
			// Already closed.
		}
	}
}

export class AutoPingRoom extends BareRoom {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
	}
}

export class ManualPingRoom extends BareRoom {
	override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		if (message === PING) {
			this.events++;
			this.count("pings");
			ws.send(PONG);
			return;
		}
		await super.webSocketMessage(ws, message);
	}
}

/** A frame `SinkRoom` answers (with the same text): the end of a caller's burst. */
const MARK = "mark";

/** Diagnostic: one JavaScript event per frame and nothing in it (bench/workloads/inbound.ts). */
export class SinkRoom extends AutoPingRoom {
	override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		this.events++;
		if (message === MARK) ws.send(MARK);
	}
}

/** Ablation: the floor plus one SQLite insert per message (baton stores every message). */
export class PersistRoom extends AutoPingRoom {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, data TEXT NOT NULL)");
	}

	override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		if (typeof message === "string") this.ctx.storage.sql.exec("INSERT INTO log (data) VALUES (?)", message);
		await super.webSocketMessage(ws, message);
	}
}

/** Ablation: the floor plus a per-socket attachment (baton-sized), read back before every send. */
export class AttachRoom extends AutoPingRoom {
	protected override accepted(ws: WebSocket): void {
		const now = Date.now();
		ws.serializeAttachment({ v: 1, session: crypto.randomUUID(), sub: "bench", name: "bench", exp: now + 3600, connectedAt: now, lastSeen: now, strikes: [] });
	}

	override async webSocketMessage(_ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		this.events++;
		if (typeof message !== "string") return;
		for (const peer of this.ctx.getWebSockets()) {
			const state: unknown = peer.deserializeAttachment();
			if (typeof state !== "object" || state === null) continue;
			try {
				peer.send(message);
			} catch {
				// Closing peer.
			}
		}
	}
}

/** Size of PresenceRoom's welcome frame, bytes of JSON. */
const WELCOME_BYTES = 300;

/**
 * Diagnostic: the floor plus baton's connect-time presence traffic. On accept, one welcome-like
 * frame (300 bytes: baton's `welcome` fields, listing only the new user, the resume token
 * replaced by padding) to the new socket,
 * then `{"type":"presence","event":"join","sub":…,"name":…}` to every other socket (baton sends a
 * join for each distinct user's first socket; the bench's sockets are all distinct users).
 */
export class PresenceRoom extends AutoPingRoom {
	/** Whether every other socket is told of the new one (false: the `welcome` variant). */
	protected readonly announces: boolean = true;

	protected override accepted(ws: WebSocket, request: Request): void {
		const sub = new URL(request.url).searchParams.get("sub") ?? `s${this.events}`;
		const welcome = {
			type: "welcome",
			session: crypto.randomUUID(),
			resume: "",
			seq: 0,
			resumed: false,
			replayed: 0,
			gap: false,
			region: "wnam",
			home: "wnam",
			heartbeat: { interval: 30_000, timeout: 90_000 },
			presence: [{ sub, name: sub }],
		};
		// The resume token's place, padded so that the frame is WELCOME_BYTES long.
		welcome.resume = "x".repeat(Math.max(0, WELCOME_BYTES - JSON.stringify(welcome).length));
		ws.send(JSON.stringify(welcome));
		if (!this.announces) return;
		const join = JSON.stringify({ type: "presence", event: "join", sub, name: sub });
		for (const peer of this.ctx.getWebSockets()) {
			if (peer === ws) continue;
			try {
				peer.send(join);
			} catch {
				// Closing peer; its close event follows.
			}
		}
	}
}

/**
 * Diagnostic: the floor plus the one frame every baton connection gets whatever the room's size
 * (a `welcome`-sized first frame), and nothing else: what a connection costs the runtime once a
 * frame has gone through it.
 */
export class WelcomeRoom extends PresenceRoom {
	protected override readonly announces: boolean = false;
}

/** baton's `presence_count` throttle (CONTRACT.md §12): at most one broadcast per second. */
const COUNT_EVERY_MS = 1000;

/**
 * Diagnostic: the welcome-sized first frame plus what baton's count mode sends the others — a
 * `{"type":"presence_count","count":n}` to every socket when the count changed, at most once per
 * second. The floor for a big room's connect traffic.
 */
export class CountRoom extends WelcomeRoom {
	#lastSentAt = 0;
	#pending = false;

	protected override accepted(ws: WebSocket, request: Request): void {
		super.accepted(ws, request);
		if (this.#pending) return;
		this.#pending = true;
		setTimeout(() => this.#sendCount(), Math.max(0, this.#lastSentAt + COUNT_EVERY_MS - Date.now()));
	}

	#sendCount(): void {
		this.#pending = false;
		this.#lastSentAt = Date.now();
		const peers = this.ctx.getWebSockets();
		const frame = JSON.stringify({ type: "presence_count", count: peers.length });
		for (const peer of peers) {
			try {
				peer.send(frame);
			} catch {
				// Closing peer; its close event follows.
			}
		}
	}
}

/** The room object for `variant`. */
function roomStub(env: Env, variant: string | null, room: string): { fetch(request: Request): Promise<Response> } {
	switch (variant) {
		case "manual":
			return env.MANUAL.get(env.MANUAL.idFromName(room));
		case "persist":
			return env.PERSIST.get(env.PERSIST.idFromName(room));
		case "attach":
			return env.ATTACH.get(env.ATTACH.idFromName(room));
		case "presence":
			return env.PRESENCE.get(env.PRESENCE.idFromName(room));
		case "welcome":
			return env.WELCOME.get(env.WELCOME.idFromName(room));
		case "count":
			return env.COUNT.get(env.COUNT.idFromName(room));
		case "sink":
			return env.SINK.get(env.SINK.idFromName(room));
		default:
			return env.AUTO.get(env.AUTO.idFromName(room));
	}
}

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		const url = new URL(request.url);
		if (url.pathname === "/healthz") return new Response("ok");
		const match = /^\/rooms\/([^/]+)\/(ws|stats)$/.exec(url.pathname);
		const room = match?.[1];
		if (room === undefined) return new Response("not found", { status: 404 });
		return roomStub(env, url.searchParams.get("variant"), room).fetch(request);
	},
} satisfies ExportedHandler<Env>;
