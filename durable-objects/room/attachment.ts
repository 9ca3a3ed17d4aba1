/**
 * Per-connection truth, kept in the socket's attachment so it survives hibernation: the object
 * is evicted while sockets stay open and is rebuilt from this plus SQLite. Versioned, and read
 * through a validating reader that returns null instead of throwing. Kept small: the runtime
 * caps an attachment at 2,048 bytes.
 */
export const ATTACHMENT_VERSION = 2;

export interface Attachment {
	v: typeof ATTACHMENT_VERSION;
	session: string;
	sub: string;
	name: string;
	/** Access token expiry, seconds since epoch. */
	exp: number;
	/** The token may publish here (its `publish` claim, CONTRACT.md §11); updated by in-band `auth`. */
	mayPublish: boolean;
	connectedAt: number;
	/** Last inbound frame (ms). Auto-answered pings are read from the runtime instead. */
	lastSeen: number;
	/** Publish token bucket. */
	tokens: number;
	tokensAt: number;
	/** Times (ms) of recent protocol errors, at most the last ten. */
	strikes: number[];
	/** Rate-limit refusals counted in a window starting at `refusalsAt`. */
	refusals: number;
	refusalsAt: number;
	/**
	 * The id of the publish last refused for rate, and when: later publishes wait behind it (are
	 * refused too) until it is sent again, so a burst cannot be stored out of order. See
	 * `waitsBehindRefused` in rate-limit.ts.
	 */
	refusedId?: string;
	refusedAt?: number;
	/** Set once the room has closed this socket (or seen it close): cleanup runs once. */
	closedWith?: number;
}

/** A new connection's attachment: a full token bucket, no strikes, no refusals. */
export function newAttachment(init: { session: string; sub: string; name: string; exp: number; mayPublish: boolean; at: number; tokens: number }): Attachment {
	return {
		v: ATTACHMENT_VERSION,
		session: init.session,
		sub: init.sub,
		name: init.name,
		exp: init.exp,
		mayPublish: init.mayPublish,
		connectedAt: init.at,
		lastSeen: init.at,
		tokens: init.tokens,
		tokensAt: init.at,
		strikes: [],
		refusals: 0,
		refusalsAt: 0,
	};
}

function isNum(v: unknown): v is number {
	return typeof v === "number" && Number.isFinite(v);
}

export function readAttachment(ws: WebSocket): Attachment | null {
	let raw: unknown;
	try {
		raw = ws.deserializeAttachment();
	} catch {
		return null;
	}
	if (typeof raw !== "object" || raw === null) return null;
	const stored = raw as Record<string, unknown>;
	// Version 1 predates the `publish` claim (CONTRACT.md §11): every token could publish.
	const a = stored.v === 1 ? { ...stored, v: ATTACHMENT_VERSION, mayPublish: true } : stored;
	if (
		a.v !== ATTACHMENT_VERSION ||
		typeof a.mayPublish !== "boolean" ||
		typeof a.session !== "string" ||
		typeof a.sub !== "string" ||
		typeof a.name !== "string" ||
		!isNum(a.exp) ||
		!isNum(a.connectedAt) ||
		!isNum(a.lastSeen) ||
		!isNum(a.tokens) ||
		!isNum(a.tokensAt) ||
		!Array.isArray(a.strikes) ||
		!a.strikes.every(isNum) ||
		!isNum(a.refusals) ||
		!isNum(a.refusalsAt) ||
		(a.refusedId !== undefined && typeof a.refusedId !== "string") ||
		(a.refusedAt !== undefined && !isNum(a.refusedAt)) ||
		(a.closedWith !== undefined && !isNum(a.closedWith))
	) {
		return null;
	}
	return a as unknown as Attachment;
}

export function writeAttachment(ws: WebSocket, attachment: Attachment): void {
	try {
		ws.serializeAttachment(attachment);
	} catch {
		// The socket is already closed; nothing about it needs to persist any more.
	}
}

/** A socket the room still serves: open, with a readable attachment, not closed by the room. */
export function liveAttachment(ws: WebSocket): Attachment | null {
	if (ws.readyState !== WebSocket.OPEN) return null;
	const a = readAttachment(ws);
	return a === null || a.closedWith !== undefined ? null : a;
}
