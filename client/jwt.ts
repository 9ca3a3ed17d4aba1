/** The claims the SDK reads from an access token. */
export interface TokenClaims {
	/** Expiry, seconds since the epoch. */
	exp?: number;
	sub?: string;
}

/**
 * Reads `exp` and `sub` from a JWT's payload **without verifying it**: the SDK only uses them to
 * time an in-band refresh and to tell whose saved session it holds; the server verifies tokens.
 * Returns `{}` for anything that is not a readable JWT (an opaque token simply is not refreshed
 * ahead of time).
 */
export function readTokenClaims(token: string): TokenClaims {
	const payload = token.split(".")[1];
	if (payload === undefined || payload === "") return {};
	let value: unknown;
	try {
		value = JSON.parse(base64UrlDecode(payload));
	} catch {
		return {};
	}
	if (typeof value !== "object" || value === null) return {};
	const claims: TokenClaims = {};
	const exp: unknown = Reflect.get(value, "exp");
	const sub: unknown = Reflect.get(value, "sub");
	if (typeof exp === "number" && Number.isFinite(exp)) claims.exp = exp;
	if (typeof sub === "string") claims.sub = sub;
	return claims;
}

/** base64url → UTF-8 text, with `atob` (browsers, Workers, Node ≥ 16). */
function base64UrlDecode(text: string): string {
	const base64 = text
		.replace(/-/g, "+")
		.replace(/_/g, "/")
		.padEnd(Math.ceil(text.length / 4) * 4, "=");
	const binary = atob(base64);
	const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
	return new TextDecoder().decode(bytes);
}
