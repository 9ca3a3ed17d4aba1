/**
 * Helpers for the in-runtime suites: tokens signed with the test secret, WebSockets opened through
 * the gateway (`SELF.fetch` with `Upgrade: websocket`), a mailbox of everything a socket received
 * with deadline-bounded waits that report what they saw, and small HTTP/admin wrappers.
 * Every wait is event-driven with a deadline; nothing sleeps.
 */
import { createExecutionContext, env, listDurableObjectIds, SELF, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, expect, vi } from "vitest";
import type { HistoryPage, RoomStats } from "../../durable-objects/room/types.ts";
import type { ErrorCode } from "../../protocol/error-codes.ts";
import {
	type AckFrame,
	type AppErrorFrame,
	AUTH_PROTOCOL_PREFIX,
	type ErrorFrame,
	type MessageFrame,
	PROTOCOL,
	type PresenceFrame,
	parseServerFrame,
	type ServerFrame,
	type WelcomeFrame,
} from "../../protocol/messages.ts";
import { signAccessToken } from "../../src/core/auth/sign.ts";

/**
 * Mutes the room's and gateway's info logs (one JSON line per connect, close, wake…) for the
 * calling test file; warnings and errors still print. The Worker runs in the tests' isolate, so
 * the spy reaches it. Not restored: sockets closing at teardown would otherwise log into a
 * closed vitest RPC channel ("Closing rpc while onUserConsoleLog was pending").
 */
export function muteInfoLogs(): void {
	beforeAll(() => {
		vi.spyOn(console, "log").mockImplementation(() => {});
		vi.spyOn(console, "info").mockImplementation(() => {});
	});
}

export const BASE = "http://example.com";
export const ALLOWED_ORIGIN = "https://app.example";
export const FOREIGN_ORIGIN = "https://evil.example";
export const DEFAULT_WAIT_MS = 3000;

function required(name: string, value: string | undefined): string {
	if (value === undefined || value === "") throw new Error(`vitest.config.ts must bind ${name} for the workers project`);
	return value;
}

export const SECRET = required("BATON_JWT_SECRET", env.BATON_JWT_SECRET);
export const ADMIN_TOKEN = required("BATON_ADMIN_TOKEN", env.BATON_ADMIN_TOKEN);
/** Numeric bindings of the workers project, read from env so tests follow the config. */
export const LIMITS = {
	historyLimit: Number(required("HISTORY_LIMIT", env.HISTORY_LIMIT)),
	maxMessageBytes: Number(required("MAX_MESSAGE_BYTES", env.MAX_MESSAGE_BYTES)),
	rateBurst: Number(required("RATE_LIMIT_BURST", env.RATE_LIMIT_BURST)),
	ratePerSec: Number(required("RATE_LIMIT_PER_SEC", env.RATE_LIMIT_PER_SEC)),
	maxConnections: Number(required("MAX_CONNECTIONS_PER_ROOM", env.MAX_CONNECTIONS_PER_ROOM)),
	maxConnectionsPerSub: Number(required("MAX_CONNECTIONS_PER_SUB", env.MAX_CONNECTIONS_PER_SUB)),
	historyMaxBytes: Number(required("HISTORY_MAX_BYTES", env.HISTORY_MAX_BYTES)),
	sendBufferMaxBytes: Number(required("SEND_BUFFER_MAX_BYTES", env.SEND_BUFFER_MAX_BYTES)),
	sendBufferRoomMaxBytes: Number(required("SEND_BUFFER_ROOM_MAX_BYTES", env.SEND_BUFFER_ROOM_MAX_BYTES)),
	resumeWindowMs: Number(env.RESUME_WINDOW_MS ?? "600000"),
	heartbeatIntervalMs: Number(env.HEARTBEAT_INTERVAL_MS ?? "30000"),
	heartbeatTimeoutMs: Number(env.HEARTBEAT_TIMEOUT_MS ?? "90000"),
};

// ---------------------------------------------------------------- names and tokens

let roomCounter = 0;

/** A room name unique to this test: derived from the test name, plus a counter and randomness. */
export function uniqueRoom(label?: string): string {
	const base = (label ?? expect.getState().currentTestName ?? "room")
		.replace(/[^A-Za-z0-9._:-]+/g, "-")
		.replace(/^[^A-Za-z0-9]+/, "")
		.slice(0, 60);
	roomCounter += 1;
	return `${base || "room"}-${roomCounter}-${crypto.randomUUID().slice(0, 8)}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Claims for a valid token: `sub` granted `rooms`, valid for an hour. Any claim can be overridden or removed (undefined). */
export function claimsFor(rooms: string[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
	const claims: Record<string, unknown> = { sub: "alice", exp: nowSeconds() + 3600, rooms, ...overrides };
	for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
	return claims;
}

/** An HS256 access token signed with the test secret. */
export function mintToken(claims: Record<string, unknown>, opts: { secret?: string; header?: Record<string, unknown> } = {}): Promise<string> {
	return signAccessToken(claims, opts.secret ?? SECRET, opts.header);
}

/** A valid token for `sub` granted `room`. */
export function tokenFor(room: string, sub = "alice", extra: Record<string, unknown> = {}): Promise<string> {
	return mintToken(claimsFor([room], { sub, ...extra }));
}

// ---------------------------------------------------------------- socket mailbox

export type SocketEvent =
	| { kind: "frame"; text: string; frame: ServerFrame | null; json: unknown }
	| { kind: "binary"; bytes: number }
	| { kind: "close"; code: number; reason: string; wasClean: boolean }
	| { kind: "error"; message: string };

export type CloseEventInfo = Extract<SocketEvent, { kind: "close" }>;

function describeEvent(e: SocketEvent): string {
	switch (e.kind) {
		case "frame":
			return e.text.length > 160 ? `${e.text.slice(0, 160)}…` : e.text;
		case "binary":
			return `<binary ${e.bytes} bytes>`;
		case "close":
			return `<close ${e.code} ${JSON.stringify(e.reason)}>`;
		case "error":
			return `<error ${e.message}>`;
	}
}

/**
 * A client WebSocket plus everything it received, in order. `next` is a selective receive: it
 * takes the earliest not-yet-taken event that matches, waiting until `timeoutMs` for one, and on
 * timeout fails with the list of everything the socket saw.
 */
export class TestSocket {
	readonly events: SocketEvent[] = [];
	/** When each event arrived (ms, same index as `events`). */
	readonly times: number[] = [];
	private readonly taken = new Set<number>();
	private waiters: Array<() => void> = [];

	constructor(
		readonly ws: WebSocket,
		readonly response: Response,
		readonly label: string,
	) {
		ws.addEventListener("message", (e) => {
			if (typeof e.data === "string") {
				let json: unknown = null;
				try {
					json = JSON.parse(e.data);
				} catch {
					// kept as text only
				}
				const parsed = parseServerFrame(e.data);
				this.push({ kind: "frame", text: e.data, frame: parsed.ok ? parsed.value : null, json });
			} else {
				this.push({ kind: "binary", bytes: (e.data as ArrayBuffer).byteLength });
			}
		});
		ws.addEventListener("close", (e) => this.push({ kind: "close", code: e.code, reason: e.reason, wasClean: e.wasClean }));
		ws.addEventListener("error", (e) => this.push({ kind: "error", message: String((e as ErrorEvent).message ?? e.type) }));
		ws.accept();
	}

	private push(e: SocketEvent): void {
		this.events.push(e);
		this.times.push(Date.now());
		const waiters = this.waiters;
		this.waiters = [];
		for (const w of waiters) w();
	}

	/** Everything received so far, one line each (for diagnostics). */
	transcript(): string {
		if (this.events.length === 0) return "  (nothing)";
		return this.events.map((e, i) => `  ${this.taken.has(i) ? "✓" : " "} ${i}: ${describeEvent(e)}`).join("\n");
	}

	get closeEvent(): CloseEventInfo | undefined {
		return this.events.find((e): e is CloseEventInfo => e.kind === "close");
	}

	/** Frames received so far (parsed), taken or not. */
	frames(): ServerFrame[] {
		return this.events.flatMap((e) => (e.kind === "frame" && e.frame !== null ? [e.frame] : []));
	}

	/** Takes the earliest untaken event matching `predicate`, waiting up to `timeoutMs`. */
	async next(predicate: (e: SocketEvent) => boolean, opts: { timeoutMs?: number; what?: string } = {}): Promise<SocketEvent> {
		const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			for (let i = 0; i < this.events.length; i++) {
				const e = this.events[i];
				if (e !== undefined && !this.taken.has(i) && predicate(e)) {
					this.taken.add(i);
					return e;
				}
			}
			const closed = this.closeEvent !== undefined;
			const left = deadline - Date.now();
			if (left <= 0 || closed) {
				throw new Error(
					`${this.label}: no ${opts.what ?? "matching event"} ${closed ? "before the socket closed" : `within ${timeoutMs} ms`}; saw:\n${this.transcript()}`,
				);
			}
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, left);
				this.waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}
	}

	/** The earliest untaken event, whatever it is. */
	nextEvent(opts: { timeoutMs?: number } = {}): Promise<SocketEvent> {
		return this.next(() => true, { ...opts, what: "event" });
	}

	/** The earliest untaken server frame of `type` that satisfies `where`. */
	async nextFrame<T extends ServerFrame["type"]>(
		type: T,
		where: (f: Extract<ServerFrame, { type: T }>) => boolean = () => true,
		opts: { timeoutMs?: number } = {},
	): Promise<Extract<ServerFrame, { type: T }>> {
		const e = await this.next((ev) => ev.kind === "frame" && ev.frame?.type === type && where(ev.frame as Extract<ServerFrame, { type: T }>), {
			...opts,
			what: `${type} frame`,
		});
		return (e as Extract<SocketEvent, { kind: "frame" }>).frame as Extract<ServerFrame, { type: T }>;
	}

	welcome(opts: { timeoutMs?: number } = {}): Promise<WelcomeFrame> {
		return this.nextFrame("welcome", () => true, opts);
	}

	message(seq?: number, opts: { timeoutMs?: number } = {}): Promise<MessageFrame> {
		return this.nextFrame("message", (f) => seq === undefined || f.seq === seq, opts);
	}

	ack(id: string, opts: { timeoutMs?: number } = {}): Promise<AckFrame> {
		return this.nextFrame("ack", (f) => f.id === id, opts);
	}

	error(code?: ErrorCode, opts: { timeoutMs?: number } = {}): Promise<ErrorFrame | AppErrorFrame> {
		return this.nextFrame("error", (f) => code === undefined || f.code === code, opts);
	}

	presence(event: "join" | "leave", sub: string, opts: { timeoutMs?: number } = {}): Promise<PresenceFrame> {
		return this.nextFrame("presence", (f) => f.event === event && f.sub === sub, opts);
	}

	/** Waits for the close event (untaken or not). */
	async closed(opts: { timeoutMs?: number } = {}): Promise<CloseEventInfo> {
		const already = this.closeEvent;
		if (already !== undefined) return already;
		const e = await this.next((ev) => ev.kind === "close", { ...opts, what: "close" });
		return e as CloseEventInfo;
	}

	/** Sends text or binary as is; anything else as JSON text. */
	send(frame: unknown): void {
		if (typeof frame === "string" || frame instanceof ArrayBuffer || ArrayBuffer.isView(frame)) this.ws.send(frame);
		else this.ws.send(JSON.stringify(frame));
	}

	publish(id: string, data: unknown = { n: id }): void {
		this.send({ type: "publish", id, data });
	}

	close(code = 1000, reason = ""): void {
		try {
			this.ws.close(code, reason);
		} catch {
			// already closed
		}
	}
}

// ---------------------------------------------------------------- connecting

export type TokenPlace = "header" | "query" | "subprotocol";

export interface ConnectOptions {
	token?: string | null;
	place?: TokenPlace;
	after?: number | string;
	resume?: string;
	region?: string;
	origin?: string;
	/** Offer `baton.v1` (default true). */
	offerProtocol?: boolean;
	headers?: Record<string, string>;
	/** Extra raw query string, appended as-is. */
	query?: Record<string, string>;
	label?: string;
}

/** Opens a WebSocket through the gateway; returns the socket whatever the outcome (101 expected). */
export async function openSocket(room: string, opts: ConnectOptions = {}): Promise<TestSocket> {
	const params = new URLSearchParams();
	const protocols: string[] = [];
	if (opts.offerProtocol !== false) protocols.push(PROTOCOL);
	const headers: Record<string, string> = { Upgrade: "websocket", ...opts.headers };
	const place = opts.place ?? "header";
	if (opts.token !== undefined && opts.token !== null) {
		if (place === "header") headers.Authorization = `Bearer ${opts.token}`;
		else if (place === "query") params.set("token", opts.token);
		else protocols.push(`${AUTH_PROTOCOL_PREFIX}${opts.token}`);
	}
	if (opts.after !== undefined) params.set("after", String(opts.after));
	if (opts.resume !== undefined) params.set("resume", opts.resume);
	if (opts.region !== undefined) params.set("region", opts.region);
	for (const [k, v] of Object.entries(opts.query ?? {})) params.set(k, v);
	if (protocols.length > 0) headers["Sec-WebSocket-Protocol"] = protocols.join(", ");
	if (opts.origin !== undefined) headers.Origin = opts.origin;
	const qs = params.toString();
	const res = await SELF.fetch(`${BASE}/v1/rooms/${encodeURIComponent(room)}/ws${qs ? `?${qs}` : ""}`, { headers });
	const ws = res.webSocket;
	if (res.status !== 101 || ws === null) {
		throw new Error(`upgrade of ${room} answered ${res.status} ${await res.text()}`);
	}
	return new TestSocket(ws, res, opts.label ?? `socket(${room})`);
}

/** Connects with a valid token for `sub` and waits for `welcome`. */
export async function join(
	room: string,
	sub = "alice",
	opts: ConnectOptions & { claims?: Record<string, unknown> } = {},
): Promise<{ socket: TestSocket; welcome: WelcomeFrame }> {
	const token = opts.token ?? (await tokenFor(room, sub, opts.claims));
	const socket = await openSocket(room, { label: `${sub}@${room}`, ...opts, token });
	const welcome = await socket.welcome();
	return { socket, welcome };
}

/** Waits for a refused upgrade's close and asserts it was the first and only event. */
export async function expectRefusal(socket: TestSocket, code: number, reason: Record<string, unknown>): Promise<void> {
	const closed = await socket.closed();
	expect(socket.events, `refused upgrade should only close; saw:\n${socket.transcript()}`).toHaveLength(1);
	expect(closed.code).toBe(code);
	expect(JSON.parse(closed.reason)).toEqual(reason);
}

// ---------------------------------------------------------------- HTTP

export interface ApiOptions {
	method?: string;
	token?: string;
	body?: unknown;
	rawBody?: string;
	origin?: string;
	headers?: Record<string, string>;
}

/** Calls a gateway route with an optional bearer token. */
export function api(path: string, opts: ApiOptions = {}): Promise<Response> {
	const headers: Record<string, string> = { ...opts.headers };
	if (opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;
	if (opts.origin !== undefined) headers.Origin = opts.origin;
	let body: string | undefined;
	if (opts.rawBody !== undefined) body = opts.rawBody;
	else if (opts.body !== undefined) body = JSON.stringify(opts.body);
	if (body !== undefined) headers["Content-Type"] = "application/json";
	return SELF.fetch(`${BASE}${path}`, { method: opts.method ?? (body === undefined ? "GET" : "POST"), headers, ...(body === undefined ? {} : { body }) });
}

/** Calls an admin route with the admin token (or `token`). */
export function admin(path: string, opts: { method?: string; body?: unknown; token?: string | null } = {}): Promise<Response> {
	const headers: Record<string, string> = {};
	const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
	if (token !== null) headers.Authorization = `Bearer ${token}`;
	if (opts.body !== undefined) headers["Content-Type"] = "application/json";
	return SELF.fetch(`${BASE}/v1/admin${path}`, {
		method: opts.method ?? (opts.body === undefined ? "GET" : "POST"),
		headers,
		...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
	});
}

export async function stats(room: string): Promise<RoomStats> {
	const res = await admin(`/rooms/${encodeURIComponent(room)}/stats`);
	expect(res.status, await res.clone().text()).toBe(200);
	return (await res.json()) as RoomStats;
}

/**
 * Closes `sockets` and waits until the room has handled every close (no connection left). A
 * test that ends with a bare `close()` lets the room log its disconnects after the file's
 * teardown has closed vitest's RPC channel ("Closing rpc while onUserConsoleLog was pending").
 */
export async function leaveRoom(room: string, ...sockets: TestSocket[]): Promise<void> {
	for (const socket of sockets) socket.close();
	await eventually(
		() => stats(room),
		(s) => s.connections === 0,
		`${room}: every close handled`,
	);
}

/** Publishes over HTTP; returns the response. */
export function httpPublish(room: string, token: string, body: unknown): Promise<Response> {
	return api(`/v1/rooms/${encodeURIComponent(room)}/messages`, { method: "POST", token, body });
}

export async function history(room: string, token: string, query = ""): Promise<HistoryPage> {
	const res = await api(`/v1/rooms/${encodeURIComponent(room)}/messages${query}`, { token });
	expect(res.status, await res.clone().text()).toBe(200);
	return (await res.json()) as HistoryPage;
}

/** Asserts an HTTP error: status, and a body that is exactly `{"error":{"code","message"}}`. */
export async function expectErrorResponse(res: Response, status: number, code: ErrorCode): Promise<void> {
	const text = await res.text();
	expect(res.status, text).toBe(status);
	expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
	const body = JSON.parse(text) as unknown;
	expect(body).toEqual({ error: { code, message: expect.any(String) } });
	expect(Object.keys(body as object)).toEqual(["error"]);
	expect(Object.keys((body as { error: object }).error).sort()).toEqual(["code", "message"]);
}

/** The room's Durable Object stub (same id the gateway uses). */
export function roomObject(room: string): DurableObjectStub<import("../../src/index.ts").Room> {
	return env.ROOMS.get(env.ROOMS.idFromName(room));
}

/**
 * True once the room's object or its anchor (the per-room routing object) has ever been
 * constructed (its SQLite file exists: constructors write to storage). Used to prove a refused
 * upgrade never woke the room.
 */
export async function roomExists(room: string): Promise<boolean> {
	const roomId = env.ROOMS.idFromName(room);
	const anchorId = env.ANCHORS.idFromName(room);
	const [rooms, anchors] = await Promise.all([listDurableObjectIds(env.ROOMS), listDurableObjectIds(env.ANCHORS)]);
	return rooms.some((id) => id.equals(roomId)) || anchors.some((id) => id.equals(anchorId));
}

/**
 * Re-checks `probe` until it returns a value `accept` takes, for state the runtime settles
 * asynchronously (a close handler running after the peer saw the close). Fails with the last value.
 */
export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: T = await probe();
	while (!accept(last)) {
		if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
		last = await probe();
	}
	return last;
}

// ---------------------------------------------------------------- other bindings

/**
 * The gateway app fetched directly with `env` changed (readConfig caches per env object, so each
 * call with a fresh object reads the overrides). Rooms behind it still run with the project's
 * own bindings.
 */
export async function gatewayWith(overrides: Partial<Record<string, string | undefined>>, path: string, init: RequestInit = {}): Promise<Response> {
	const { createGateway } = await import("../../src/gateway/app.ts");
	const ctx = createExecutionContext();
	const res = await createGateway().fetch(new Request(`${BASE}${path}`, init), { ...env, ...overrides }, ctx);
	await waitOnExecutionContext(ctx);
	return res;
}
