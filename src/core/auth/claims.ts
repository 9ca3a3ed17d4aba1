/**
 * The claims baton reads from a verified access token (CONTRACT.md §4, §11): `sub` (1–128 code
 * points) and `exp` required; `nbf`, `name`, `rooms`, `publish` optional and type-checked;
 * `preferred_username` read only as a fallback display name; every other claim ignored — except
 * `iss` / `aud` when BATON_JWT_ISSUER / BATON_JWT_AUDIENCE are set.
 */

/** Clock leeway for `exp` and `nbf` (§9: at most 5 s). */
export const CLOCK_LEEWAY_SECONDS = 5;
export const MAX_SUB_LENGTH = 128;
const MAX_NAME_LENGTH = 256;

/** The claims baton uses, after verification. */
export interface AccessClaims {
	sub: string;
	exp: number;
	nbf?: number;
	/** Display name: `name`, else `preferred_username`, else `sub`. */
	name: string;
	/** Rooms the token may join (names or `prefix*`); absent = none. */
	rooms?: string[];
	/** Rooms the token may publish to (same syntax); absent = every room of `rooms`. */
	publish?: string[];
}

/** What the deployment requires of every token, HS256 included. */
export interface ClaimRules {
	issuer: string | null;
	audience: string | null;
}

/** `sub` length counts Unicode code points, not UTF-16 units (§13). */
export function isValidSub(sub: unknown): sub is string {
	if (typeof sub !== "string" || sub.length === 0) return false;
	// A string of ≤ 128 UTF-16 units has ≤ 128 code points; only longer ones need counting.
	return sub.length <= MAX_SUB_LENGTH || [...sub].length <= MAX_SUB_LENGTH;
}

function isRecord(v: unknown): v is Record<string, unknown> {
	return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
	return Array.isArray(v) && v.every((r) => typeof r === "string");
}

/** Reads the claims of a verified payload; a string says which rule it breaks. */
export function readClaims(payload: unknown, rules: ClaimRules): AccessClaims | string {
	if (!isRecord(payload)) return "payload is not an object";
	const { sub, exp, nbf, name, preferred_username: preferred, rooms, publish, iss, aud } = payload;
	if (!isValidSub(sub)) return "sub must be a string of 1-128 characters";
	if (typeof exp !== "number" || !Number.isFinite(exp)) return "exp is required";
	if (nbf !== undefined && (typeof nbf !== "number" || !Number.isFinite(nbf))) return "nbf must be a number";
	if (name !== undefined && (typeof name !== "string" || name.length > MAX_NAME_LENGTH)) return "name must be a string";
	if (rooms !== undefined && !isStringArray(rooms)) return "rooms must be an array of strings";
	if (publish !== undefined && !isStringArray(publish)) return "publish must be an array of strings";
	if (rules.issuer !== null && iss !== rules.issuer) return "iss does not match";
	if (rules.audience !== null && !(aud === rules.audience || (isStringArray(aud) && aud.includes(rules.audience)))) return "aud does not match";
	// An identity provider's preferred_username is a fallback only: a bad one is ignored, not refused.
	const fallback = typeof preferred === "string" && preferred !== "" && preferred.length <= MAX_NAME_LENGTH ? preferred : sub;
	const claims: AccessClaims = { sub, exp, name: typeof name === "string" ? name : fallback };
	if (nbf !== undefined) claims.nbf = nbf;
	if (rooms !== undefined) claims.rooms = rooms;
	if (publish !== undefined) claims.publish = publish;
	return claims;
}

/** The time window with the 5 s leeway: null when `now` is inside it, else why not. */
export function timeWindowProblem(claims: AccessClaims, nowMs: number): string | null {
	const now = nowMs / 1000;
	if (claims.exp + CLOCK_LEEWAY_SECONDS <= now) return "expired";
	if (claims.nbf !== undefined && claims.nbf - CLOCK_LEEWAY_SECONDS > now) return "not yet valid";
	return null;
}
