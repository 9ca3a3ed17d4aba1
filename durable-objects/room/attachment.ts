/**
 * Per-connection truth, kept in the socket's attachment so it survives hibernation: the object
 * is evicted while sockets stay open and is rebuilt from this plus SQLite. Versioned, upgraded
 * on read from every older version, and read through a validating reader that returns null
 * instead of throwing. Kept small: the runtime caps an attachment at 2,048 bytes.
 */
export const ATTACHMENT_VERSION = 3;

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
	/** Times (ms) of recent protocol errors, at most the last ten. */
	strikes: number[];
	/** Times (ms) of recent `auth` frames (frame-allowance.ts), at most the allowance. */
	auths?: number[];
	/** Times (ms) of recent `read` frames (frame-allowance.ts), at most the allowance. */
	reads?: number[];
	/**
	 * The connection's acknowledged seq — its latest `read`, else the head when it connected —
	 * and the log's cumulative byte count at that seq (send-account.ts). Absent on sockets
	 * accepted by older code: their account starts at the room's head when the room woke.
	 */
	ackSeq?: number;
	ackCum?: number;
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

/**
 * A new connection's attachment: no strikes, no refusals, acknowledged up to `ack` (the head
 * when it connected). Its publish rate is its sub's bucket (publish-bucket.ts), not its own.
 */
export function newAttachment(init: {
	session: string;
	sub: string;
	name: string;
	exp: number;
	mayPublish: boolean;
	at: number;
	ack: { seq: number; cum: number };
}): Attachment {
	return {
		v: ATTACHMENT_VERSION,
		session: init.session,
		sub: init.sub,
		name: init.name,
		exp: init.exp,
		mayPublish: init.mayPublish,
		connectedAt: init.at,
		lastSeen: init.at,
		strikes: [],
		refusals: 0,
		refusalsAt: 0,
		ackSeq: init.ack.seq,
		ackCum: init.ack.cum,
	};
}

function isNum(v: unknown): v is number {
	return typeof v === "number" && Number.isFinite(v);
}

function isOptionalTimes(v: unknown): boolean {
	return v === undefined || (Array.isArray(v) && v.every(isNum));
}

function isRecord(v: unknown): v is Record<string, unknown> {
	return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * How an attachment of each older version becomes the next one. A room can wake on new code with
 * sockets whose attachments older code wrote (deferred code updates, CONTRACT.md §7): each is
 * upgraded on read, step by step, to the current version.
 */
const UPGRADES: Readonly<Record<number, (old: Record<string, unknown>) => Record<string, unknown>>> = {
	// Version 1 predates the `publish` claim (CONTRACT.md §11): every token could publish.
	1: (a) => ({ ...a, v: 2, mayPublish: true }),
	// Version 2 kept a token bucket per connection; since version 3 the bucket is the (room, sub)'s,
	// in memory (CONTRACT.md §13), and the acknowledged seq is absent until the next `read`.
	2: ({ tokens: _tokens, tokensAt: _tokensAt, ...a }) => ({ ...a, v: 3 }),
};

function isCurrent(a: Record<string, unknown>): boolean {
	return (
		a.v === ATTACHMENT_VERSION &&
		typeof a.mayPublish === "boolean" &&
		typeof a.session === "string" &&
		typeof a.sub === "string" &&
		typeof a.name === "string" &&
		isNum(a.exp) &&
		isNum(a.connectedAt) &&
		isNum(a.lastSeen) &&
		Array.isArray(a.strikes) &&
		a.strikes.every(isNum) &&
		isOptionalTimes(a.auths) &&
		isOptionalTimes(a.reads) &&
		(a.ackSeq === undefined || isNum(a.ackSeq)) &&
		(a.ackCum === undefined || isNum(a.ackCum)) &&
		isNum(a.refusals) &&
		isNum(a.refusalsAt) &&
		(a.refusedId === undefined || typeof a.refusedId === "string") &&
		(a.refusedAt === undefined || isNum(a.refusedAt)) &&
		(a.closedWith === undefined || isNum(a.closedWith))
	);
}

/** A stored attachment of this or any older version, upgraded; null when it cannot be read. */
export function parseAttachment(raw: unknown): Attachment | null {
	if (!isRecord(raw)) return null;
	let a = raw;
	while (typeof a.v === "number" && a.v < ATTACHMENT_VERSION) {
		const upgrade = UPGRADES[a.v];
		if (upgrade === undefined) return null;
		a = upgrade(a);
	}
	return isCurrent(a) ? (a as unknown as Attachment) : null;
}

export function readAttachment(ws: WebSocket): Attachment | null {
	try {
		return parseAttachment(ws.deserializeAttachment());
	} catch {
		return null;
	}
}

export function writeAttachment(ws: WebSocket, attachment: Attachment): void {
	try {
		ws.serializeAttachment(attachment);
	} catch {
		// The socket is already closed; nothing about it needs to persist any more.
	}
}

/**
 * An open socket whose attachment cannot be read (a version this code does not know, or
 * damaged): the room cannot serve it, so it is closed with 1012 (CONTRACT.md §7) — never left
 * open, unanswered and counted.
 */
export function isUnreadable(ws: WebSocket): boolean {
	return ws.readyState === WebSocket.OPEN && readAttachment(ws) === null;
}

/** A socket the room still serves: open, with a readable attachment, not closed by the room. */
export function liveAttachment(ws: WebSocket): Attachment | null {
	if (ws.readyState !== WebSocket.OPEN) return null;
	const a = readAttachment(ws);
	return a === null || a.closedWith !== undefined ? null : a;
}
