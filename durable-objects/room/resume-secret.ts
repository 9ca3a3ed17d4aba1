/**
 * Resume tokens (CONTRACT.md §4) as `<session>.<secret>`: the session id and a random secret the
 * room keeps in that session's row. A resume is one row read and a constant-time compare — no
 * signature to make on every connect, none to check — and it is bound to (room, sub, session) by
 * the row itself: another room has no such row, another sub does not match the row's sub, an
 * expired session is past its row's window, and an altered token names no row or the wrong secret.
 */
/** Secret bytes per session (256 bits, as an HMAC-SHA256 tag was). */
const SECRET_BYTES = 32;
/** base64url of {@link SECRET_BYTES} without padding. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Session ids are `crypto.randomUUID()`s (lower-case). */
const SESSION_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ResumeToken {
	session: string;
	secret: string;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** base64url of fresh random bytes, 6 bits a character (the generic encoder's regexes cost more than the randomness). */
export function newResumeSecret(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES + 1));
	let out = "";
	for (let i = 0; i < SECRET_BYTES; i += 3) {
		const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
		out += ALPHABET.charAt((n >> 18) & 63) + ALPHABET.charAt((n >> 12) & 63) + ALPHABET.charAt((n >> 6) & 63) + ALPHABET.charAt(n & 63);
	}
	// 33 random bytes make 44 characters; the secret is the first 43 (256 random bits and more).
	return out.slice(0, 43);
}

export function formatResumeToken(session: string, secret: string): string {
	return `${session}.${secret}`;
}

/** The parts of a token in this format, or null (a token from before it, or anything else). */
export function parseResumeToken(token: string): ResumeToken | null {
	const dot = token.indexOf(".");
	if (dot === -1) return null;
	const session = token.slice(0, dot);
	const secret = token.slice(dot + 1);
	return SESSION_PATTERN.test(session) && SECRET_PATTERN.test(secret) ? { session, secret } : null;
}

/**
 * Equal strings, compared in time that depends on their length only (both are fixed-length
 * secrets here), so response timing does not reveal how much of a guess was right.
 */
export function sameSecret(a: string, b: string): boolean {
	if (a.length !== b.length) return false;
	let diff = 0;
	for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
	return diff === 0;
}
