/**
 * HS256 access tokens for the baton target (CONTRACT.md §4), minted with node:crypto so the bench
 * does not depend on the Worker's own signing code.
 */
import { createHmac } from "node:crypto";

/** The JWT secret and admin token the bench starts baton with. */
export const BENCH_SECRET = "bench-secret-0123456789abcdef0123456789abcdef";
export const BENCH_ADMIN_TOKEN = "bench-admin-token";

function b64url(input: string | Buffer): string {
	return Buffer.from(input).toString("base64url");
}

/** A token for `sub` granting every room, valid for `ttlSeconds`. */
export function mintToken(sub: string, ttlSeconds = 3600): string {
	const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
	const payload = b64url(JSON.stringify({ sub, rooms: ["*"], exp: Math.floor(Date.now() / 1000) + ttlSeconds }));
	const signature = createHmac("sha256", BENCH_SECRET).update(`${header}.${payload}`).digest("base64url");
	return `${header}.${payload}.${signature}`;
}
