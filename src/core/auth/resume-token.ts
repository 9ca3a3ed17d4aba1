/**
 * Resume tokens (CONTRACT.md §4): opaque to clients, `<payload>.<hmac>` where the payload binds
 * (room, sub, session) and an expiry. Signed with BATON_JWT_SECRET under a distinct prefix so a
 * resume token can never pass as an access token or the other way round.
 */
import { decodeBase64Url, decodeJsonBase64Url, encodeBase64Url, encodeJsonBase64Url } from "./base64url.ts";
import { hmacSign, hmacVerify } from "./hmac.ts";

const DOMAIN = "baton.resume.v1:";

export interface ResumeClaims {
	room: string;
	sub: string;
	session: string;
	/** Expiry, ms since epoch. */
	exp: number;
}

export async function signResumeToken(claims: ResumeClaims, secret: string): Promise<string> {
	const payload = encodeJsonBase64Url({ r: claims.room, s: claims.sub, i: claims.session, e: claims.exp });
	return `${payload}.${encodeBase64Url(await hmacSign(secret, DOMAIN + payload))}`;
}

/**
 * Returns the session a resume token grants, or null when it is altered, expired, or bound to
 * another room or sub. Callers treat null as "start a fresh session", never as an error.
 */
export async function verifyResumeToken(token: string, secret: string, expect: { room: string; sub: string }, nowMs = Date.now()): Promise<string | null> {
	const dot = token.indexOf(".");
	if (dot <= 0 || token.indexOf(".", dot + 1) !== -1) return null;
	const payload = token.slice(0, dot);
	const sig = decodeBase64Url(token.slice(dot + 1));
	if (sig === null || sig.length !== 32) return null;
	if (!(await hmacVerify(secret, DOMAIN + payload, sig))) return null;
	const body = decodeJsonBase64Url(payload);
	if (typeof body !== "object" || body === null) return null;
	const { r, s, i, e } = body as Record<string, unknown>;
	if (typeof r !== "string" || typeof s !== "string" || typeof i !== "string" || typeof e !== "number") return null;
	if (r !== expect.room || s !== expect.sub || e <= nowMs) return null;
	return i;
}
