/**
 * HS256 access tokens (CONTRACT.md §4). Only `alg: "HS256"` is accepted; `sub` and `exp` are
 * required; `nbf`, `name`, `rooms` are optional and type-checked. Other registered claims
 * (`iat`, `iss`, `jti`, …) are ignored. Clock leeway is 5 s.
 */
import { decodeBase64Url, decodeJsonBase64Url, encodeBase64Url, encodeJsonBase64Url } from "./base64url.ts";
import { hmacSign, hmacVerify } from "./hmac.ts";

export const CLOCK_LEEWAY_SECONDS = 5;
export const MAX_SUB_LENGTH = 128;

/** The claims baton reads from a verified token. */
export interface AccessClaims {
	sub: string;
	exp: number;
	nbf?: number;
	name?: string;
	rooms?: string[];
}

export type VerifyResult = { ok: true; claims: AccessClaims } | { ok: false; reason: string };

function isRecord(v: unknown): v is Record<string, unknown> {
	return typeof v === "object" && v !== null && !Array.isArray(v);
}

function readClaims(payload: unknown): AccessClaims | string {
	if (!isRecord(payload)) return "payload is not an object";
	const { sub, exp, nbf, name, rooms } = payload;
	if (typeof sub !== "string" || sub.length < 1 || sub.length > MAX_SUB_LENGTH) return "sub must be a string of 1-128 chars";
	if (typeof exp !== "number" || !Number.isFinite(exp)) return "exp is required";
	const claims: AccessClaims = { sub, exp };
	if (nbf !== undefined) {
		if (typeof nbf !== "number" || !Number.isFinite(nbf)) return "nbf must be a number";
		claims.nbf = nbf;
	}
	if (name !== undefined) {
		if (typeof name !== "string" || name.length > 256) return "name must be a string";
		claims.name = name;
	}
	if (rooms !== undefined) {
		if (!Array.isArray(rooms) || !rooms.every((r): r is string => typeof r === "string")) return "rooms must be an array of strings";
		claims.rooms = rooms;
	}
	return claims;
}

/** Verifies an HS256 JWT: signature first, then claims and time window. */
export async function verifyAccessToken(token: string, secret: string, nowMs = Date.now()): Promise<VerifyResult> {
	const parts = token.split(".");
	if (parts.length !== 3) return { ok: false, reason: "malformed" };
	const [h, p, s] = parts as [string, string, string];
	const header = decodeJsonBase64Url(h);
	if (!isRecord(header) || header.alg !== "HS256") return { ok: false, reason: "alg must be HS256" };
	if (header.crit !== undefined) return { ok: false, reason: "crit headers are not supported" };
	const sig = decodeBase64Url(s);
	if (sig === null || sig.length !== 32) return { ok: false, reason: "bad signature" };
	if (!(await hmacVerify(secret, `${h}.${p}`, sig))) return { ok: false, reason: "bad signature" };
	const claims = readClaims(decodeJsonBase64Url(p));
	if (typeof claims === "string") return { ok: false, reason: claims };
	const now = nowMs / 1000;
	if (claims.exp + CLOCK_LEEWAY_SECONDS <= now) return { ok: false, reason: "expired" };
	if (claims.nbf !== undefined && claims.nbf - CLOCK_LEEWAY_SECONDS > now) return { ok: false, reason: "not yet valid" };
	return { ok: true, claims };
}

/** Signs claims as an HS256 JWT (used by the dev token route, scripts and tests). */
export async function signAccessToken(
	claims: Record<string, unknown>,
	secret: string,
	header: Record<string, unknown> = { alg: "HS256", typ: "JWT" },
): Promise<string> {
	const input = `${encodeJsonBase64Url(header)}.${encodeJsonBase64Url(claims)}`;
	return `${input}.${encodeBase64Url(await hmacSign(secret, input))}`;
}

/** True when `room` is granted by the `rooms` claim: exact names, or prefixes ending in `*`. */
export function roomAllowed(claims: AccessClaims, room: string): boolean {
	for (const pattern of claims.rooms ?? []) {
		if (pattern.endsWith("*") ? room.startsWith(pattern.slice(0, -1)) : pattern === room) return true;
	}
	return false;
}
