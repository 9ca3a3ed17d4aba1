import type { ErrorCode } from "./error-codes.ts";
import { isAppErrorCode, isErrorCode } from "./error-codes.ts";

/** The WebSocket subprotocol baton speaks (CONTRACT.md §5). */
export const PROTOCOL = "baton.v1";
/** Prefix of the subprotocol entry that carries an access token: `baton.auth.<jwt>`. */
export const AUTH_PROTOCOL_PREFIX = "baton.auth.";
/** Literal text frames answered by the runtime's auto-response, never waking the room. */
export const PING = "ping";
export const PONG = "pong";
/** Bounds of a client message id (§5). */
export const MAX_CLIENT_ID_LENGTH = 64;

/** Frame `type` values, server → client and client → server. */
export const MessageType = {
	Welcome: "welcome",
	Message: "message",
	Ack: "ack",
	Presence: "presence",
	Error: "error",
	AuthOk: "auth_ok",
	PresenceCount: "presence_count",
	PresenceState: "presence_state",
	Publish: "publish",
	Auth: "auth",
	Read: "read",
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export interface PresenceEntry {
	sub: string;
	name: string;
}

export interface WelcomeFrame {
	type: "welcome";
	session: string;
	resume: string;
	seq: number;
	resumed: boolean;
	replayed: number;
	gap: boolean;
	region: string;
	home: string;
	heartbeat: { interval: number; timeout: number };
	presence: PresenceEntry[];
	/** Distinct subs present (§12); absent from servers that predate it. */
	presenceCount?: number;
	/** True in count mode: `presence` lists only some of the subs present (§12). */
	presenceTruncated?: boolean;
	/** The room log's epoch: fixed when the log was created, kept across restarts and migrations (§13); absent from servers that predate it. */
	epoch?: string;
	/** The connect's `?epoch=` named another log: the replay starts at the oldest kept message (§13). */
	reset?: boolean;
}

/** A room message. `T` is the type the app says its publishers send; the wire does not check it. */
export interface MessageFrame<T = unknown> {
	type: "message";
	seq: number;
	id: string;
	from: string;
	data: T;
	ts: number;
}

export interface AckFrame {
	type: "ack";
	id: string;
	seq: number;
	dup: boolean;
}

export interface PresenceFrame {
	type: "presence";
	event: "join" | "leave";
	sub: string;
	name: string;
}

export interface ErrorFrame {
	type: "error";
	code: ErrorCode;
	message: string;
	id?: string;
	/** When to try again (ms): `room_moving` publishes carry it (§13). */
	retryIn?: number;
}

/** An `error` frame with an app's own code: an `onPublish` rejection (CONTRACT.md §14). */
export interface AppErrorFrame {
	type: "error";
	code: string;
	message: string;
	id: string;
}

export interface AuthOkFrame {
	type: "auth_ok";
	exp: number;
}

/** Count mode (§12): the number of distinct subs present changed. */
export interface PresenceCountFrame {
	type: "presence_count";
	count: number;
}

/** Back to event mode (§12): everyone present, before `join`/`leave` frames resume. */
export interface PresenceStateFrame {
	type: "presence_state";
	presence: PresenceEntry[];
	count: number;
}

export type ServerFrame =
	| WelcomeFrame
	| MessageFrame
	| AckFrame
	| PresenceFrame
	| ErrorFrame
	| AppErrorFrame
	| AuthOkFrame
	| PresenceCountFrame
	| PresenceStateFrame;

export interface PublishFrame {
	type: "publish";
	id: string;
	data: unknown;
}

export interface AuthFrame {
	type: "auth";
	token: string;
}

/**
 * The highest seq the client has received (§13): the room's account of what it sent above this
 * is its slow-consumer measure. Never answered.
 */
export interface ReadFrame {
	type: "read";
	seq: number;
}

export type ClientFrame = PublishFrame | AuthFrame | ReadFrame;

/** Result of parsing untrusted input: the value, or why it was refused (with the id if one was readable). */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string; id?: string };

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A client message id: 1–64 characters. */
export function isValidClientId(value: unknown): value is string {
	return typeof value === "string" && value.length >= 1 && value.length <= MAX_CLIENT_ID_LENGTH;
}

/**
 * Parses one inbound text frame. Never throws: anything that is not a well-formed
 * `publish`, `auth` or `read` frame is refused with a reason (sent back as `bad_message`).
 */
export function parseClientFrame(text: string): ParseResult<ClientFrame> {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		return { ok: false, reason: "frame is not JSON" };
	}
	if (!isRecord(value)) return { ok: false, reason: "frame is not a JSON object" };
	const id = isValidClientId(value.id) ? value.id : undefined;
	switch (value.type) {
		case MessageType.Publish: {
			if (!isValidClientId(value.id)) return { ok: false, reason: "publish needs an id of 1-64 characters" };
			if (!("data" in value) || value.data === undefined) return { ok: false, reason: "publish needs data", id };
			return { ok: true, value: { type: "publish", id: value.id, data: value.data } };
		}
		case MessageType.Auth: {
			if (typeof value.token !== "string" || value.token.length === 0) {
				return { ok: false, reason: "auth needs a token" };
			}
			return { ok: true, value: { type: "auth", token: value.token } };
		}
		case MessageType.Read: {
			if (!isNonNegInt(value.seq)) return { ok: false, reason: "read needs a seq (an integer >= 0)" };
			return { ok: true, value: { type: "read", seq: value.seq } };
		}
		default:
			return { ok: false, reason: "unknown frame type", ...(id === undefined ? {} : { id }) };
	}
}

function isNonNegInt(value: unknown): value is number {
	return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isPresenceEntry(value: unknown): value is PresenceEntry {
	return isRecord(value) && typeof value.sub === "string" && typeof value.name === "string";
}

function presenceEntries(list: readonly PresenceEntry[]): PresenceEntry[] {
	return list.map((p) => ({ sub: p.sub, name: p.name }));
}

/**
 * A `message` frame (or a history item, which has the same shape) from a parsed JSON value;
 * null when a field is missing or mistyped. Unknown fields are dropped.
 */
export function messageFrameFrom(v: unknown): MessageFrame | null {
	if (!isRecord(v) || v.type !== MessageType.Message) return null;
	if (isNonNegInt(v.seq) && typeof v.id === "string" && typeof v.from === "string" && isNonNegInt(v.ts)) {
		return { type: "message", seq: v.seq, id: v.id, from: v.from, data: v.data, ts: v.ts };
	}
	return null;
}

/**
 * Parses one server frame (used by the SDK and the tests). Never throws; unknown types are
 * refused so a newer server's frames are ignored rather than misread.
 */
export function parseServerFrame(text: string): ParseResult<ServerFrame> {
	let v: unknown;
	try {
		v = JSON.parse(text);
	} catch {
		return { ok: false, reason: "frame is not JSON" };
	}
	if (!isRecord(v)) return { ok: false, reason: "frame is not a JSON object" };
	switch (v.type) {
		case MessageType.Welcome: {
			const hb = v.heartbeat;
			if (
				typeof v.session === "string" &&
				typeof v.resume === "string" &&
				isNonNegInt(v.seq) &&
				typeof v.resumed === "boolean" &&
				isNonNegInt(v.replayed) &&
				typeof v.gap === "boolean" &&
				typeof v.region === "string" &&
				typeof v.home === "string" &&
				isRecord(hb) &&
				isNonNegInt(hb.interval) &&
				isNonNegInt(hb.timeout) &&
				Array.isArray(v.presence) &&
				v.presence.every(isPresenceEntry)
			) {
				const welcome: WelcomeFrame = {
					type: "welcome",
					session: v.session,
					resume: v.resume,
					seq: v.seq,
					resumed: v.resumed,
					replayed: v.replayed,
					gap: v.gap,
					region: v.region,
					home: v.home,
					heartbeat: { interval: hb.interval, timeout: hb.timeout },
					presence: presenceEntries(v.presence),
				};
				// Optional (§12): kept when well-formed, so older servers' welcomes still parse.
				if (isNonNegInt(v.presenceCount)) welcome.presenceCount = v.presenceCount;
				if (typeof v.presenceTruncated === "boolean") welcome.presenceTruncated = v.presenceTruncated;
				// Optional (§13) for the same reason.
				if (typeof v.epoch === "string") welcome.epoch = v.epoch;
				if (typeof v.reset === "boolean") welcome.reset = v.reset;
				return { ok: true, value: welcome };
			}
			return { ok: false, reason: "malformed welcome" };
		}
		case MessageType.Message: {
			const message = messageFrameFrom(v);
			return message === null ? { ok: false, reason: "malformed message" } : { ok: true, value: message };
		}
		case MessageType.Ack:
			if (typeof v.id === "string" && isNonNegInt(v.seq) && typeof v.dup === "boolean") {
				return { ok: true, value: { type: "ack", id: v.id, seq: v.seq, dup: v.dup } };
			}
			return { ok: false, reason: "malformed ack" };
		case MessageType.Presence:
			if ((v.event === "join" || v.event === "leave") && typeof v.sub === "string" && typeof v.name === "string") {
				return { ok: true, value: { type: "presence", event: v.event, sub: v.sub, name: v.name } };
			}
			return { ok: false, reason: "malformed presence" };
		case MessageType.Error:
			if (isErrorCode(v.code) && typeof v.message === "string") {
				const frame: ErrorFrame = { type: "error", code: v.code, message: v.message };
				if (typeof v.id === "string") frame.id = v.id;
				if (isNonNegInt(v.retryIn)) frame.retryIn = v.retryIn;
				return { ok: true, value: frame };
			}
			// An app's own code (an onPublish rejection) always answers a publish: it carries the id.
			if (isAppErrorCode(v.code) && typeof v.message === "string" && typeof v.id === "string") {
				return { ok: true, value: { type: "error", code: v.code, message: v.message, id: v.id } };
			}
			return { ok: false, reason: "malformed error" };
		case MessageType.AuthOk:
			if (isNonNegInt(v.exp)) return { ok: true, value: { type: "auth_ok", exp: v.exp } };
			return { ok: false, reason: "malformed auth_ok" };
		case MessageType.PresenceCount:
			if (isNonNegInt(v.count)) return { ok: true, value: { type: "presence_count", count: v.count } };
			return { ok: false, reason: "malformed presence_count" };
		case MessageType.PresenceState:
			if (Array.isArray(v.presence) && v.presence.every(isPresenceEntry) && isNonNegInt(v.count)) {
				return { ok: true, value: { type: "presence_state", presence: presenceEntries(v.presence), count: v.count } };
			}
			return { ok: false, reason: "malformed presence_state" };
		default:
			return { ok: false, reason: "unknown frame type" };
	}
}
