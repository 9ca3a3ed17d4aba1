/**
 * Resume tokens (CONTRACT.md §4): bound to (room, sub, session) and an expiry; anything else —
 * another room, another sub, expired, altered — verifies to null (a fresh session), never throws.
 */
import { describe, expect, it } from "vitest";
import { type ResumeClaims, signResumeToken, verifyResumeToken } from "../../src/core/auth/resume-token.ts";
import { signAccessToken } from "../../src/core/auth/sign.ts";
import { createVerifier } from "../../src/core/auth/verify.ts";

const SECRET = "unit-secret-0123456789abcdef";
const NOW = 1_800_000_000_000;
const claims: ResumeClaims = { room: "lobby", sub: "alice", session: "5f0c6a8e-7c1d-4d7e-9a51-2b9b8f1e0a11", exp: NOW + 600_000 };
const expect_ = { room: "lobby", sub: "alice" };

describe("verifyResumeToken", () => {
	it("returns the session of a token it signed, for the same room and sub, before expiry", async () => {
		const token = await signResumeToken(claims, SECRET);
		expect(await verifyResumeToken(token, SECRET, expect_, NOW)).toBe(claims.session);
		expect(await verifyResumeToken(token, SECRET, expect_, claims.exp - 1)).toBe(claims.session);
	});

	it("is opaque: one payload and one signature, base64url", async () => {
		expect(await signResumeToken(claims, SECRET)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
	});

	it("returns null for another room", async () => {
		expect(await verifyResumeToken(await signResumeToken(claims, SECRET), SECRET, { ...expect_, room: "lobby2" }, NOW)).toBeNull();
	});

	it("returns null for another sub", async () => {
		expect(await verifyResumeToken(await signResumeToken(claims, SECRET), SECRET, { ...expect_, sub: "mallory" }, NOW)).toBeNull();
	});

	it("returns null once expired (at exp exactly and after)", async () => {
		const token = await signResumeToken(claims, SECRET);
		expect(await verifyResumeToken(token, SECRET, expect_, claims.exp)).toBeNull();
		expect(await verifyResumeToken(token, SECRET, expect_, claims.exp + 1)).toBeNull();
	});

	it("returns null for another secret", async () => {
		expect(await verifyResumeToken(await signResumeToken(claims, `${SECRET}x`), SECRET, expect_, NOW)).toBeNull();
	});

	it("returns null when any one character is changed", async () => {
		const token = await signResumeToken(claims, SECRET);
		for (let i = 0; i < token.length; i++) {
			if (token[i] === ".") continue;
			const flipped = `${token.slice(0, i)}${token[i] === "A" ? "B" : "A"}${token.slice(i + 1)}`;
			expect(await verifyResumeToken(flipped, SECRET, expect_, NOW), `position ${i}`).toBeNull();
		}
	});

	it("returns null when one byte of the payload is flipped", async () => {
		const token = await signResumeToken(claims, SECRET);
		const [payload, sig] = token.split(".") as [string, string];
		const raw = atob(payload.replaceAll("-", "+").replaceAll("_", "/"));
		for (let i = 0; i < raw.length; i++) {
			const changed = raw.slice(0, i) + String.fromCharCode(raw.charCodeAt(i) ^ 1) + raw.slice(i + 1);
			const b64 = btoa(changed).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
			expect(await verifyResumeToken(`${b64}.${sig}`, SECRET, expect_, NOW), `byte ${i}`).toBeNull();
		}
	});

	it.each(["", ".", "abc", "a.b.c", "payload.", ".sig", "not base64!.x", "a.b"])("returns null for the malformed token %j", async (token) => {
		expect(await verifyResumeToken(token, SECRET, expect_, NOW)).toBeNull();
	});

	it("a resume token is never an access token, and an access token is never a resume token", async () => {
		const resume = await signResumeToken(claims, SECRET);
		const verify = createVerifier({ secret: SECRET, jwks: null, remote: null, rules: { issuer: null, audience: null } });
		expect((await verify(resume, NOW)).ok).toBe(false);
		const access = await signAccessToken({ sub: "alice", exp: NOW / 1000 + 60 }, SECRET);
		expect(await verifyResumeToken(access, SECRET, expect_, NOW)).toBeNull();
	});
});
