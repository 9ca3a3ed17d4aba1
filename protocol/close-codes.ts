/**
 * Every WebSocket close code baton sends or reacts to, with the client's reaction to each.
 * Imported by the gateway, the room and the SDK: nothing else writes a bare close code.
 *
 * Ranges: 1000–1015 are RFC 6455 codes (1005, 1006 and 1015 are reserved: never sent on the
 * wire, only observed); 4000–4999 are baton's own. See CONTRACT.md §6.
 */
export const CloseCode = {
	/** The client asked to leave. The SDK stops. */
	Normal: 1000,
	/** Sent by browsers and proxies going away; baton itself drains with 1012. Resume after jitter. */
	GoingAway: 1001,
	/** A binary frame arrived; baton speaks JSON text only. The SDK stops and surfaces an error. */
	UnsupportedData: 1003,
	/** Reserved: never sent. Observed on abrupt loss (crash, reset, network). Resume with backoff. */
	Abnormal: 1006,
	/** Ten protocol errors within a minute. The SDK stops and surfaces an error. */
	PolicyViolation: 1008,
	/** A frame larger than MAX_MESSAGE_BYTES. Resume, dropping that message with an error. */
	MessageTooBig: 1009,
	/** Internal error (or server misconfigured at the gateway). Resume with backoff. */
	InternalError: 1011,
	/** Drain before a deploy or eviction; reason `{"retryIn":ms}`. Resume after retryIn. */
	ServiceRestart: 1012,
	/** Overload (room full, too many connections of one sub, room moving); reason `{"code","retryIn"}`. Reconnect after retryIn, with backoff. */
	TryAgainLater: 1013,
	/** Access token expired or invalid. Get a new token, then resume. */
	Unauthorized: 4001,
	/** Forbidden: room not in claims, origin not allowed, access revoked (kick/ban). Stop. */
	Forbidden: 4003,
	/** No frame and no auto-answered ping for longer than HEARTBEAT_TIMEOUT_MS. Resume. */
	HeartbeatTimeout: 4008,
	/** The connection kept publishing after being told it was rate limited. Resume after backoff. */
	RateLimited: 4009,
	/** The room moved to another region; reason `{"home","retryIn"}`. Resume at once. */
	RoomMoved: 4010,
	/** A newer connection resumed this session. Stop (the newer one carries on). */
	SessionReplaced: 4011,
	/**
	 * Slow consumer (CONTRACT.md §13): the bytes the room sent above the connection's last `read`
	 * exceeded SEND_BUFFER_MAX_BYTES, or it was the furthest behind when the room's total exceeded
	 * SEND_BUFFER_ROOM_MAX_BYTES; reason `{"code":"slow_consumer"}`. Resume after backoff.
	 */
	SlowConsumer: 4013,
	/** Bad request: bad room name or parameters. Stop. */
	BadRequest: 4400,
	/**
	 * Sent **by the client**, never by the server: the SDK is dropping this socket to replace it
	 * (connect timeout, missed pongs, a seq gap, a network change, `room.reconnect()`). The room
	 * treats it as a loss, so presence grace applies; 1000 is the goodbye, sent only by
	 * `room.close()` (§12). A server never closes with it, so a client seeing it treats it like
	 * any unknown code.
	 */
	ClientReconnect: 4000,
} as const;

/** A close code baton knows. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** What a client does after a close with a given code (the "SDK reaction" column of §6). */
export type CloseReaction =
	/** Do not reconnect. `surface` says whether the app should get an error event. */
	| { kind: "stop"; surface: boolean }
	/** Reconnect and resume; `delay` says how the wait before it is chosen. */
	| { kind: "resume"; delay: "now" | "jitter" | "backoff" | "retryIn"; refreshToken: boolean; dropPending?: boolean };

/**
 * Maps a close code to the client's reaction. Unknown codes are treated like an abrupt loss
 * (resume with backoff), which is the safe choice for a code a newer server might send.
 */
export function closeReaction(code: number): CloseReaction {
	switch (code) {
		case CloseCode.Normal:
			return { kind: "stop", surface: false };
		case CloseCode.UnsupportedData:
		case CloseCode.PolicyViolation:
		case CloseCode.Forbidden:
		case CloseCode.SessionReplaced:
		case CloseCode.BadRequest:
			return { kind: "stop", surface: true };
		case CloseCode.GoingAway:
			return { kind: "resume", delay: "jitter", refreshToken: false };
		case CloseCode.MessageTooBig:
			return { kind: "resume", delay: "backoff", refreshToken: false, dropPending: true };
		case CloseCode.ServiceRestart:
			return { kind: "resume", delay: "retryIn", refreshToken: false };
		case CloseCode.TryAgainLater:
			return { kind: "resume", delay: "retryIn", refreshToken: false };
		case CloseCode.Unauthorized:
			return { kind: "resume", delay: "now", refreshToken: true };
		case CloseCode.RoomMoved:
			return { kind: "resume", delay: "now", refreshToken: false };
		default:
			// 1006, 1011, 4008, 4009, 4000 (a client's own code) and anything unknown.
			return { kind: "resume", delay: "backoff", refreshToken: false };
	}
}

/** RFC 6455 §7.4.1: these codes must never be sent in a close frame. */
export function isReservedCloseCode(code: number): boolean {
	return code === 1005 || code === 1006 || code === 1015;
}

/** Codes a peer may legally put in a close frame (RFC 6455 §7.4). */
export function isSendableCloseCode(code: number): boolean {
	if (isReservedCloseCode(code)) return false;
	// 1004 is reserved too (RFC 6455 §7.4.1); `ws` refuses a close frame carrying it.
	return (code >= 1000 && code <= 1014 && code !== 1004) || (code >= 3000 && code <= 4999);
}

/** RFC 6455 §5.5: a control frame payload is ≤ 125 bytes, 2 of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Trims a close reason to at most 123 UTF-8 bytes without splitting a character.
 * JSON reasons are built small enough that this never has to cut them.
 */
export function clampCloseReason(reason: string): string {
	const bytes = new TextEncoder().encode(reason);
	if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason;
	let out = "";
	let used = 0;
	for (const ch of reason) {
		const n = new TextEncoder().encode(ch).length;
		if (used + n > MAX_CLOSE_REASON_BYTES) break;
		out += ch;
		used += n;
	}
	return out;
}

/** Structured close reasons (JSON in the close frame's reason), parsed leniently by clients. */
export interface CloseReasonBody {
	code?: string;
	retryIn?: number;
	home?: string;
}

/** Parses a close reason; a reason that is not a JSON object yields `{}`. */
export function parseCloseReason(reason: string | undefined): CloseReasonBody {
	if (!reason) return {};
	try {
		const value: unknown = JSON.parse(reason);
		if (typeof value !== "object" || value === null) return {};
		const out: CloseReasonBody = {};
		const rec = value as Record<string, unknown>;
		if (typeof rec.code === "string") out.code = rec.code;
		if (typeof rec.retryIn === "number" && Number.isFinite(rec.retryIn) && rec.retryIn >= 0) out.retryIn = rec.retryIn;
		if (typeof rec.home === "string") out.home = rec.home;
		return out;
	} catch {
		return {};
	}
}
