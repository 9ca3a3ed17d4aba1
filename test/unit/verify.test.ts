/**
 * Access token verification (CONTRACT.md §4, §9, §11). HS256: `sub` and `exp` required, 5 s
 * leeway, optional claims type-checked. RS256 / ES256 / EdDSA with keys of a JWK Set (inline
 * here; the fetched set has its own tests in remote-jwks.test.ts), algorithm confusion refused,
 * iss / aud enforced when configured, the display name's fallbacks. Time is passed in.
 */
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeBase64Url, encodeJsonBase64Url } from "../../src/core/auth/base64url.ts";
import { CLOCK_LEEWAY_SECONDS, MAX_SUB_LENGTH } from "../../src/core/auth/claims.ts";
import { hmacSign } from "../../src/core/auth/hmac.ts";
import { signAccessToken } from "../../src/core/auth/sign.ts";
import { createVerifier, type VerifierSettings } from "../../src/core/auth/verify.ts";
import { ASYMMETRIC_ALGS, jwkSet, makeKey, signWith, type TestKey } from "../fixtures/test-idp.ts";

const SECRET = "unit-secret-0123456789abcdef";
const NOW_S = 1_800_000_000;
const NOW_MS = NOW_S * 1000;
const valid = { sub: "alice", exp: NOW_S + 3600, rooms: ["lobby"] };
const NO_RULES = { issuer: null, audience: null };

const hs256Only = createVerifier({ secret: SECRET, jwks: null, remote: null, rules: NO_RULES });

async function verify(token: string, nowMs = NOW_MS) {
	return hs256Only(token, nowMs);
}

/** Signs an arbitrary payload text (not necessarily JSON) with a valid HS256 header. */
async function signRawPayload(payloadText: string): Promise<string> {
	const input = `${encodeJsonBase64Url({ alg: "HS256", typ: "JWT" })}.${encodeBase64Url(new TextEncoder().encode(payloadText))}`;
	return `${input}.${encodeBase64Url(await hmacSign(SECRET, input))}`;
}

describe("verifyAccessToken accepts", () => {
	it("a token it signed, returning the claims it reads", async () => {
		const payload = { ...valid, name: "Alice", nbf: NOW_S - 10, iat: NOW_S, iss: "x" };
		const token = await signAccessToken(payload, SECRET);
		// `payload`: every claim, as signed (the app's onConnect sees them, CONTRACT.md §14).
		expect(await verify(token)).toEqual({ ok: true, claims: { ...valid, name: "Alice", nbf: NOW_S - 10 }, payload });
	});

	it("a token with only sub and exp", async () => {
		expect(await verify(await signAccessToken({ sub: "a", exp: NOW_S + 1 }, SECRET))).toEqual({
			ok: true,
			claims: { sub: "a", exp: NOW_S + 1, name: "a" },
			payload: { sub: "a", exp: NOW_S + 1 },
		});
	});

	it("a sub of exactly 128 characters", async () => {
		const sub = "s".repeat(MAX_SUB_LENGTH);
		expect((await verify(await signAccessToken({ ...valid, sub }, SECRET))).ok).toBe(true);
	});

	it("a sub of 128 code points outside the BMP (256 UTF-16 units): length counts code points", async () => {
		const sub = "\u{1F600}".repeat(MAX_SUB_LENGTH);
		expect(sub.length).toBe(2 * MAX_SUB_LENGTH);
		expect((await verify(await signAccessToken({ ...valid, sub }, SECRET))).ok).toBe(true);
	});

	it("a publish claim, returned as read", async () => {
		const result = await verify(await signAccessToken({ ...valid, publish: ["lobby", "team-*"] }, SECRET));
		expect(result).toEqual({
			ok: true,
			claims: { ...valid, name: "alice", publish: ["lobby", "team-*"] },
			payload: { ...valid, publish: ["lobby", "team-*"] },
		});
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
		["a sub of 129 code points outside the BMP", () => signAccessToken({ ...valid, sub: "\u{1F600}".repeat(MAX_SUB_LENGTH + 1) }, SECRET)],
		["a numeric sub", () => signAccessToken({ ...valid, sub: 1 }, SECRET)],
		["no exp", () => signAccessToken({ sub: "a" }, SECRET)],
		["a string exp", () => signAccessToken({ ...valid, exp: String(valid.exp) }, SECRET)],
		["a null exp", () => signAccessToken({ ...valid, exp: null }, SECRET)],
		["a string nbf", () => signAccessToken({ ...valid, nbf: "0" }, SECRET)],
		["a numeric name", () => signAccessToken({ ...valid, name: 5 }, SECRET)],
		["a name over 256 characters", () => signAccessToken({ ...valid, name: "n".repeat(257) }, SECRET)],
		["a rooms claim that is a string", () => signAccessToken({ ...valid, rooms: "lobby" }, SECRET)],
		["a rooms claim with a non-string entry", () => signAccessToken({ ...valid, rooms: ["lobby", 1] }, SECRET)],
		["a publish claim that is a string", () => signAccessToken({ ...valid, publish: "lobby" }, SECRET)],
		["a publish claim with a non-string entry", () => signAccessToken({ ...valid, publish: [true] }, SECRET)],
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

describe("RS256, ES256 and EdDSA with a key of the JWK Set", () => {
	const keys = new Map<string, TestKey>();
	const others = new Map<string, TestKey>();
	let verifier: ReturnType<typeof createVerifier>;

	beforeAll(async () => {
		for (const alg of ASYMMETRIC_ALGS) {
			keys.set(alg, await makeKey(alg));
			// Same kid, another key pair: what a forger without the private key can produce at best.
			others.set(alg, await makeKey(alg, keys.get(alg)?.kid));
		}
		verifier = createVerifier({ secret: SECRET, jwks: jwkSet([...keys.values()]), remote: null, rules: NO_RULES });
	});
	const key = (alg: string) => keys.get(alg) as TestKey;

	for (const alg of ASYMMETRIC_ALGS) {
		it(`accepts ${alg} signed with the key its kid names`, async () => {
			expect(await verifier(await signWith(key(alg), valid), NOW_MS)).toMatchObject({ ok: true, claims: { ...valid, name: "alice" }, payload: valid });
		});

		it(`refuses ${alg} signed with another key under the same kid`, async () => {
			expect((await verifier(await signWith(others.get(alg) as TestKey, valid), NOW_MS)).ok).toBe(false);
		});

		it(`refuses ${alg} naming a kid the set does not hold`, async () => {
			expect((await verifier(await signWith(key(alg), valid, { kid: "unknown" }), NOW_MS)).ok).toBe(false);
		});

		it(`applies the HS256 claim rules to ${alg} too (exp, sub, 5 s leeway)`, async () => {
			expect((await verifier(await signWith(key(alg), { ...valid, exp: NOW_S }), NOW_MS + 4_999)).ok).toBe(true);
			expect(await verifier(await signWith(key(alg), { ...valid, exp: NOW_S }), NOW_MS + 5_000)).toEqual({ ok: false, reason: "expired" });
			expect((await verifier(await signWith(key(alg), { exp: valid.exp }), NOW_MS)).ok).toBe(false);
			expect((await verifier(await signWith(key(alg), { sub: "a" }), NOW_MS)).ok).toBe(false);
		});
	}

	it("without a kid, uses the only key of the matching type", async () => {
		const rsa = await makeKey("RS256");
		const ec = await makeKey("ES256");
		const v = createVerifier({ secret: null, jwks: jwkSet([rsa, ec], ["kid", "alg"]), remote: null, rules: NO_RULES });
		expect((await v(await signWith(rsa, valid, { kid: null }), NOW_MS)).ok).toBe(true);
		expect((await v(await signWith(ec, valid, { kid: null }), NOW_MS)).ok).toBe(true);
	});

	it("without a kid, refuses when two keys of the type could match", async () => {
		const a = await makeKey("RS256");
		const b = await makeKey("RS256");
		const v = createVerifier({ secret: null, jwks: jwkSet([a, b], ["kid"]), remote: null, rules: NO_RULES });
		expect((await v(await signWith(a, valid, { kid: null }), NOW_MS)).ok).toBe(false);
	});

	it("refuses every single-character change of an RS256 token", async () => {
		const token = await signWith(key("RS256"), valid);
		for (let i = 0; i < token.length; i += 7) {
			if (token[i] === ".") continue;
			const flipped = `${token.slice(0, i)}${token[i] === "A" ? "B" : "A"}${token.slice(i + 1)}`;
			expect((await verifier(flipped, NOW_MS)).ok, `position ${i}`).toBe(false);
		}
	});
});

describe("algorithm and key-type confusion is refused", () => {
	let rsa: TestKey;
	let ec: TestKey;
	let ed: TestKey;
	let settings: VerifierSettings;

	beforeAll(async () => {
		rsa = await makeKey("RS256");
		ec = await makeKey("ES256");
		ed = await makeKey("EdDSA");
		settings = { secret: SECRET, jwks: jwkSet([rsa, ec, ed]), remote: null, rules: NO_RULES };
	});

	it("HS256 signed with the public key (PEM or JWK text) as HMAC secret, with or without a server secret", async () => {
		const pem = await exportSPKI(
			await crypto.subtle.importKey("jwk", rsa.publicJwk as JsonWebKey, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]),
		);
		for (const hmacSecret of [pem, JSON.stringify(rsa.publicJwk), rsa.publicJwk.n as string]) {
			const token = await signAccessToken(valid, hmacSecret, { alg: "HS256", typ: "JWT", kid: rsa.kid });
			expect((await createVerifier(settings)(token, NOW_MS)).ok).toBe(false);
			expect((await createVerifier({ ...settings, secret: null })(token, NOW_MS)).ok).toBe(false);
		}
	});

	it("an oct key in the JWK Set is never an HMAC secret", async () => {
		const octSecret = "oct-secret-in-the-set-0123456789";
		const oct = { kty: "oct", kid: "oct-1", k: encodeBase64Url(new TextEncoder().encode(octSecret)) };
		const token = await signAccessToken(valid, octSecret, { alg: "HS256", typ: "JWT", kid: "oct-1" });
		for (const secret of [SECRET, null]) {
			const v = createVerifier({ ...settings, secret, jwks: { keys: [...(settings.jwks?.keys ?? []), oct] } });
			expect((await v(token, NOW_MS)).ok).toBe(false);
		}
	});

	it("an alg that does not match the key's type", async () => {
		const v = createVerifier(settings);
		// The header claims another algorithm than the key's, under that key's kid.
		expect((await v(await signWith(rsa, valid, { alg: "RS256", kid: ec.kid }), NOW_MS)).ok).toBe(false);
		expect((await v(await signWith(ec, valid, { alg: "ES256", kid: ed.kid }), NOW_MS)).ok).toBe(false);
		expect((await v(await signWith(ed, valid, { alg: "EdDSA", kid: rsa.kid }), NOW_MS)).ok).toBe(false);
	});

	it("an alg other than RS256, ES256, EdDSA, even signed by a key the set holds (no alg field)", async () => {
		for (const alg of ["PS256", "RS512", "ES384"] as const) {
			const pair = await generateKeyPair(alg, { extractable: true });
			const jwk = { ...(await exportJWK(pair.publicKey)), kid: `k-${alg}` };
			const v = createVerifier({ ...settings, jwks: { keys: [jwk] } });
			const token = await new SignJWT(valid).setProtectedHeader({ alg, kid: jwk.kid }).sign(pair.privateKey);
			expect(await v(token, NOW_MS)).toEqual({ ok: false, reason: `alg ${alg} is not accepted` });
		}
	});

	it('alg "none" (empty signature, or over a valid signature) and a missing alg', async () => {
		const v = createVerifier(settings);
		const signed = await signWith(rsa, valid);
		const [, payload, sig] = signed.split(".");
		for (const header of [{ alg: "none" }, { alg: "none", kid: rsa.kid }, { typ: "JWT", kid: rsa.kid }]) {
			expect((await v(`${encodeJsonBase64Url(header)}.${payload}.`, NOW_MS)).ok).toBe(false);
			expect((await v(`${encodeJsonBase64Url(header)}.${payload}.${sig}`, NOW_MS)).ok).toBe(false);
		}
	});

	it("a private key published in the set is not used", async () => {
		const leaked = await makeKey("ES256");
		const privateJwk = { ...(await crypto.subtle.exportKey("jwk", leaked.privateKey)), kid: leaked.kid };
		const v = createVerifier({ ...settings, jwks: { keys: [privateJwk as Record<string, unknown>] } });
		expect((await v(await signWith(leaked, valid), NOW_MS)).ok).toBe(false);
	});

	it("RS256 without any JWK Set configured", async () => {
		const v = createVerifier({ ...settings, jwks: null });
		expect(await v(await signWith(rsa, valid), NOW_MS)).toEqual({ ok: false, reason: "alg RS256 is not accepted" });
	});

	it("HS256 without a secret configured", async () => {
		const v = createVerifier({ ...settings, secret: null });
		expect(await v(await signAccessToken(valid, SECRET), NOW_MS)).toEqual({ ok: false, reason: "HS256 needs BATON_JWT_SECRET" });
	});
});

describe("BATON_JWT_ISSUER / BATON_JWT_AUDIENCE are checked for every token, HS256 included", () => {
	let rsa: TestKey;
	beforeAll(async () => {
		rsa = await makeKey("RS256");
	});
	const rules = { issuer: "https://idp.example/", audience: "baton" };
	const sign = {
		HS256: (claims: Record<string, unknown>) => signAccessToken(claims, SECRET),
		RS256: (claims: Record<string, unknown>) => signWith(rsa, claims),
	};

	for (const [alg, signer] of Object.entries(sign)) {
		it(`${alg}: iss must equal the issuer, aud (string or array) must contain the audience`, async () => {
			const v = createVerifier({ secret: SECRET, jwks: jwkSet([rsa]), remote: null, rules });
			const ok = { ...valid, iss: rules.issuer };
			expect((await v(await signer({ ...ok, aud: "baton" }), NOW_MS)).ok).toBe(true);
			expect((await v(await signer({ ...ok, aud: ["other", "baton"] }), NOW_MS)).ok).toBe(true);
			expect(await v(await signer({ ...ok, aud: "other" }), NOW_MS)).toEqual({ ok: false, reason: "aud does not match" });
			expect(await v(await signer({ ...ok, aud: ["other"] }), NOW_MS)).toEqual({ ok: false, reason: "aud does not match" });
			expect(await v(await signer(ok), NOW_MS)).toEqual({ ok: false, reason: "aud does not match" });
			expect(await v(await signer({ ...valid, aud: "baton" }), NOW_MS)).toEqual({ ok: false, reason: "iss does not match" });
			expect(await v(await signer({ ...valid, iss: "https://idp.example", aud: "baton" }), NOW_MS)).toEqual({ ok: false, reason: "iss does not match" });
		});
	}

	it("unset, iss and aud are ignored", async () => {
		expect((await verify(await signAccessToken({ ...valid, iss: 5, aud: { x: 1 } }, SECRET))).ok).toBe(true);
	});
});

describe("the display name falls back from name to preferred_username to sub", () => {
	const nameOf = async (claims: Record<string, unknown>) => {
		const result = await verify(await signAccessToken({ ...valid, ...claims }, SECRET));
		return result.ok ? result.claims.name : `refused: ${result.reason}`;
	};

	it("name wins, then preferred_username, then sub", async () => {
		expect(await nameOf({ name: "Alice A.", preferred_username: "alice_a" })).toBe("Alice A.");
		expect(await nameOf({ preferred_username: "alice_a" })).toBe("alice_a");
		expect(await nameOf({})).toBe("alice");
	});

	it("an unusable preferred_username is ignored, not refused", async () => {
		expect(await nameOf({ preferred_username: 7 })).toBe("alice");
		expect(await nameOf({ preferred_username: "" })).toBe("alice");
		expect(await nameOf({ preferred_username: "p".repeat(257) })).toBe("alice");
	});
});
