/**
 * Access tokens (CONTRACT.md §4, §9): HS256 only, `sub` and `exp` required, 5 s leeway, optional
 * claims type-checked, and the `rooms` claim's exact names and `*` prefixes. Time is passed in.
 */
import { describe, expect, it } from "vitest";
import { encodeBase64Url, encodeJsonBase64Url } from "../../src/auth/base64url.ts";
import { hmacSign } from "../../src/auth/hmac.ts";
import { type AccessClaims, CLOCK_LEEWAY_SECONDS, MAX_SUB_LENGTH, roomAllowed, signAccessToken, verifyAccessToken } from "../../src/auth/jwt.ts";

const SECRET = "unit-secret-0123456789abcdef";
const NOW_S = 1_800_000_000;
const NOW_MS = NOW_S * 1000;
const valid = { sub: "alice", exp: NOW_S + 3600, rooms: ["lobby"] };

async function verify(token: string, nowMs = NOW_MS) {
	return verifyAccessToken(token, SECRET, nowMs);
}

/** Signs an arbitrary payload text (not necessarily JSON) with a valid HS256 header. */
async function signRawPayload(payloadText: string): Promise<string> {
	const input = `${encodeJsonBase64Url({ alg: "HS256", typ: "JWT" })}.${encodeBase64Url(new TextEncoder().encode(payloadText))}`;
	return `${input}.${encodeBase64Url(await hmacSign(SECRET, input))}`;
}

describe("verifyAccessToken accepts", () => {
	it("a token it signed, returning the claims it reads", async () => {
		const token = await signAccessToken({ ...valid, name: "Alice", nbf: NOW_S - 10, iat: NOW_S, iss: "x" }, SECRET);
		expect(await verify(token)).toEqual({ ok: true, claims: { ...valid, name: "Alice", nbf: NOW_S - 10 } });
	});

	it("a token with only sub and exp", async () => {
		expect(await verify(await signAccessToken({ sub: "a", exp: NOW_S + 1 }, SECRET))).toEqual({ ok: true, claims: { sub: "a", exp: NOW_S + 1 } });
	});

	it("a sub of exactly 128 characters", async () => {
		const sub = "s".repeat(MAX_SUB_LENGTH);
		expect((await verify(await signAccessToken({ ...valid, sub }, SECRET))).ok).toBe(true);
	});

	it("a header with typ omitted or extra fields (kid)", async () => {
		expect((await verify(await signAccessToken(valid, SECRET, { alg: "HS256" }))).ok).toBe(true);
		expect((await verify(await signAccessToken(valid, SECRET, { alg: "HS256", typ: "JWT", kid: "k1" }))).ok).toBe(true);
	});
});

describe("verifyAccessToken's clock leeway is 5 s", () => {
	it("accepts a token that expired less than 5 s ago and refuses one that expired 5 s ago", async () => {
		expect(CLOCK_LEEWAY_SECONDS).toBe(5);
		const token = await signAccessToken({ ...valid, exp: NOW_S }, SECRET);
		expect((await verify(token, NOW_MS + 4_999)).ok).toBe(true);
		expect(await verify(token, NOW_MS + 5_000)).toEqual({ ok: false, reason: "expired" });
		expect((await verify(token, NOW_MS + 60_000)).ok).toBe(false);
	});

	it("accepts nbf up to 5 s ahead and refuses it beyond", async () => {
		const token = await signAccessToken({ ...valid, nbf: NOW_S + 5 }, SECRET);
		expect((await verify(token)).ok).toBe(true);
		expect(await verify(token, NOW_MS - 1)).toEqual({ ok: false, reason: "not yet valid" });
		expect((await verify(await signAccessToken({ ...valid, nbf: NOW_S + 60 }, SECRET))).ok).toBe(false);
	});
});

describe("verifyAccessToken refuses", () => {
	const header = (h: Record<string, unknown>) => signAccessToken(valid, SECRET, h);
	const cases: Array<[string, () => Promise<string>]> = [
		["an empty string", async () => ""],
		["two parts", async () => "a.b"],
		["four parts", async () => `${await signAccessToken(valid, SECRET)}.x`],
		["parts that are not base64url", async () => "a+b.c/d.e=f"],
		["a header that is not JSON", async () => `bm90.${encodeJsonBase64Url(valid)}.sig`],
		['alg "none" with an empty signature', async () => `${encodeJsonBase64Url({ alg: "none" })}.${encodeJsonBase64Url(valid)}.`],
		['alg "none" over a valid HMAC', () => header({ alg: "none" })],
		['alg "hs256" (case matters)', () => header({ alg: "hs256" })],
		["alg HS384", () => header({ alg: "HS384" })],
		["alg HS512", () => header({ alg: "HS512" })],
		["alg RS256", () => header({ alg: "RS256" })],
		["no alg", () => header({ typ: "JWT" })],
		["a crit header", () => header({ alg: "HS256", crit: ["exp"] })],
		["another secret's signature", () => signAccessToken(valid, `${SECRET}x`)],
		["a truncated signature", async () => (await signAccessToken(valid, SECRET)).slice(0, -2)],
		["an empty signature", async () => (await signAccessToken(valid, SECRET)).replace(/\.[^.]*$/, ".")],
		[
			"a payload swapped under the old signature",
			async () => {
				const [h, , s] = (await signAccessToken(valid, SECRET)).split(".");
				return `${h}.${encodeJsonBase64Url({ ...valid, sub: "mallory" })}.${s}`;
			},
		],
		["a payload that is not JSON", () => signRawPayload("not json")],
		["a payload that is a JSON array", () => signRawPayload("[1]")],
		["a payload that is JSON null", () => signRawPayload("null")],
		["no sub", () => signAccessToken({ exp: valid.exp }, SECRET)],
		["an empty sub", () => signAccessToken({ ...valid, sub: "" }, SECRET)],
		["a 129-character sub", () => signAccessToken({ ...valid, sub: "s".repeat(MAX_SUB_LENGTH + 1) }, SECRET)],
		["a numeric sub", () => signAccessToken({ ...valid, sub: 1 }, SECRET)],
		["no exp", () => signAccessToken({ sub: "a" }, SECRET)],
		["a string exp", () => signAccessToken({ ...valid, exp: String(valid.exp) }, SECRET)],
		["a null exp", () => signAccessToken({ ...valid, exp: null }, SECRET)],
		["a string nbf", () => signAccessToken({ ...valid, nbf: "0" }, SECRET)],
		["a numeric name", () => signAccessToken({ ...valid, name: 5 }, SECRET)],
		["a name over 256 characters", () => signAccessToken({ ...valid, name: "n".repeat(257) }, SECRET)],
		["a rooms claim that is a string", () => signAccessToken({ ...valid, rooms: "lobby" }, SECRET)],
		["a rooms claim with a non-string entry", () => signAccessToken({ ...valid, rooms: ["lobby", 1] }, SECRET)],
	];
	for (const [name, make] of cases) {
		it(name, async () => {
			const result = await verify(await make());
			expect(result.ok).toBe(false);
			if (!result.ok) expect(result.reason).toEqual(expect.any(String));
		});
	}

	it("every single-character change of a valid token", async () => {
		const token = await signAccessToken(valid, SECRET);
		for (let i = 0; i < token.length; i++) {
			if (token[i] === ".") continue;
			const flipped = `${token.slice(0, i)}${token[i] === "A" ? "B" : "A"}${token.slice(i + 1)}`;
			expect((await verify(flipped)).ok, `position ${i}`).toBe(false);
		}
	});
});

describe("roomAllowed", () => {
	const claims = (rooms?: string[]): AccessClaims => ({ sub: "a", exp: 1, ...(rooms === undefined ? {} : { rooms }) });

	it("grants exact names only", () => {
		expect(roomAllowed(claims(["lobby"]), "lobby")).toBe(true);
		expect(roomAllowed(claims(["lobby"]), "lobby2")).toBe(false);
		expect(roomAllowed(claims(["lobby"]), "Lobby")).toBe(false);
	});

	it("grants prefixes ending in *: team-* grants team-x but not teamx", () => {
		expect(roomAllowed(claims(["team-*"]), "team-x")).toBe(true);
		expect(roomAllowed(claims(["team-*"]), "team-")).toBe(true);
		expect(roomAllowed(claims(["team-*"]), "teamx")).toBe(false);
		expect(roomAllowed(claims(["team-*"]), "team")).toBe(false);
	});

	it("a lone * grants every room", () => {
		expect(roomAllowed(claims(["*"]), "anything")).toBe(true);
	});

	it("grants nothing without a rooms claim or with an empty one", () => {
		expect(roomAllowed(claims(), "lobby")).toBe(false);
		expect(roomAllowed(claims([]), "lobby")).toBe(false);
	});

	it("treats * only at the end as a wildcard", () => {
		expect(roomAllowed(claims(["*-x"]), "a-x")).toBe(false);
		expect(roomAllowed(claims(["*-x"]), "*-x")).toBe(true);
	});
});
