/**
 * The resume token format (durable-objects/room/resume-secret.ts, CONTRACT.md §4): a session id
 * and a 256-bit secret; anything else parses to null (the room then tries the signed format of
 * before, and otherwise starts a fresh session). The compare is constant-time in the content.
 */
import { describe, expect, it } from "vitest";
import { formatResumeToken, newResumeSecret, parseResumeToken, sameSecret } from "../../durable-objects/room/resume-secret.ts";

const SESSION = "5f0c6a8e-7c1d-4d7e-9a51-2b9b8f1e0a11";

describe("resume secrets", () => {
	it("are 43 base64url characters (32 random bytes), different each time", () => {
		const secrets = new Set(Array.from({ length: 50 }, () => newResumeSecret()));
		expect(secrets.size).toBe(50);
		for (const s of secrets) expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
	});

	it("round-trip through a token", () => {
		const secret = newResumeSecret();
		expect(parseResumeToken(formatResumeToken(SESSION, secret))).toEqual({ session: SESSION, secret });
	});

	it.each([
		["no dot", `${SESSION}`],
		["two dots", `${SESSION}.${"A".repeat(43)}.x`],
		["a short secret", `${SESSION}.${"A".repeat(42)}`],
		["a long secret", `${SESSION}.${"A".repeat(44)}`],
		["a secret outside base64url", `${SESSION}.${"A".repeat(42)}+`],
		["a session that is not a UUID", `not-a-session.${"A".repeat(43)}`],
		["an upper-case session", `${SESSION.toUpperCase()}.${"A".repeat(43)}`],
		["a signed token of before", "eyJyIjoibG9iYnkiLCJzIjoiYWxpY2UifQ.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"],
		["empty", ""],
	])("do not parse with %s", (_name, token) => {
		expect(parseResumeToken(token)).toBeNull();
	});

	it("compare equal only when every character is", () => {
		const a = newResumeSecret();
		expect(sameSecret(a, a)).toBe(true);
		expect(sameSecret(a, `${a.slice(0, -1)}${a.endsWith("A") ? "B" : "A"}`)).toBe(false);
		expect(sameSecret(a, `${a.startsWith("A") ? "B" : "A"}${a.slice(1)}`)).toBe(false);
		expect(sameSecret(a, a.slice(0, -1))).toBe(false);
		expect(sameSecret("", "")).toBe(true);
	});
});
