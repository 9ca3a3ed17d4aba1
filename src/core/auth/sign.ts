/**
 * Signs claims as an HS256 JWT with BATON_JWT_SECRET. Used by the dev token route, the token
 * script and the tests (which also pass odd headers to check they are refused); verification
 * never uses this code (see verify.ts).
 */
import { encodeBase64Url, encodeJsonBase64Url } from "./base64url.ts";
import { hmacSign } from "./hmac.ts";

export async function signAccessToken(
	claims: Record<string, unknown>,
	secret: string,
	header: Record<string, unknown> = { alg: "HS256", typ: "JWT" },
): Promise<string> {
	const input = `${encodeJsonBase64Url(header)}.${encodeJsonBase64Url(claims)}`;
	return `${input}.${encodeBase64Url(await hmacSign(secret, input))}`;
}
