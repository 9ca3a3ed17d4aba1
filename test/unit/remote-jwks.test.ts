/**
 * The fetched JWK Set (CONTRACT.md §11): cached ≤ 10 min, fetched again for an unknown kid at
 * most once a minute counted from the last fetch, failures refuse the tokens that need the set
 * (never throw), one fetch shared by concurrent tokens, a hung fetch bounded by the timeout.
 * A fake clock and a fake JWKS endpoint that counts its requests.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { REMOTE_JWKS_DEFAULTS, RemoteJwks, type RemoteJwksOptions } from "../../src/core/auth/remote-jwks.ts";
import { signAccessToken } from "../../src/core/auth/sign.ts";
import { createVerifier } from "../../src/core/auth/verify.ts";
import { jwkSet, makeKey, signWith, type TestKey } from "../fixtures/test-idp.ts";

const URL_ = "https://idp.example/.well-known/jwks.json";
const SECRET = "unit-secret-0123456789abcdef";
const T0 = 1_800_000_000_000;

/** A JWKS endpoint: serves `keys` (or fails as told), counts requests. */
class FakeIdp {
	keys: TestKey[] = [];
	requests = 0;
	mode: "ok" | "500" | "network" | "not-json" | "hang" = "ok";
	readonly fetch: RemoteJwksOptions["fetch"] = async (url, init) => {
		expect(url).toBe(URL_);
		expect(init.redirect).toBe("manual");
		this.requests += 1;
		switch (this.mode) {
			case "ok":
				return Response.json(jwkSet(this.keys));
			case "500":
				return new Response("down", { status: 500 });
			case "not-json":
				return new Response("<html>", { status: 200 });
			case "network":
				throw new TypeError("fetch failed");
			case "hang":
				return new Promise<Response>(() => {});
		}
	};
}

function setup(overrides: Partial<RemoteJwksOptions> = {}) {
	const idp = new FakeIdp();
	const clock = { now: T0 };
	const remote = new RemoteJwks(URL_, { ...REMOTE_JWKS_DEFAULTS, timeoutMs: 200, fetch: idp.fetch, now: () => clock.now, ...overrides });
	const verify = createVerifier({ secret: SECRET, jwks: null, remote: remote.getKey, rules: { issuer: null, audience: null } });
	const check = async (token: string) => (await verify(token, clock.now)).ok;
	return { idp, clock, remote, check };
}

const claims = () => ({ sub: "alice", exp: T0 / 1000 + 3600, rooms: ["lobby"] });

describe("the fetched JWK Set", () => {
	let a: TestKey;
	let b: TestKey;
	let c: TestKey;
	beforeAll(async () => {
		[a, b, c] = await Promise.all([makeKey("RS256"), makeKey("ES256"), makeKey("EdDSA")]);
	});

	it("is fetched once for the first token and then served from the cache", async () => {
		const { idp, check } = setup();
		idp.keys = [a, b];
		expect(await check(await signWith(a, claims()))).toBe(true);
		expect(await check(await signWith(b, claims()))).toBe(true);
		expect(await check(await signWith(a, claims()))).toBe(true);
		expect(idp.requests).toBe(1);
	});

	it("an unknown kid within a minute of the last fetch is refused without fetching; after it, exactly one refetch", async () => {
		const { idp, clock, check } = setup();
		idp.keys = [a];
		expect(await check(await signWith(a, claims()))).toBe(true);
		idp.keys = [a, b];
		clock.now = T0 + 59_999;
		expect(await check(await signWith(b, claims()))).toBe(false);
		expect(await check(await signWith(b, claims(), { kid: "forged" }))).toBe(false);
		expect(idp.requests).toBe(1);
		clock.now = T0 + 60_000;
		expect(await check(await signWith(b, claims()))).toBe(true);
		expect(idp.requests).toBe(2);
		// The minute now counts from that refetch: a forged kid right after costs no request.
		expect(await check(await signWith(b, claims(), { kid: "forged" }))).toBe(false);
		expect(idp.requests).toBe(2);
	});

	it("key rotation: a new key is picked up by its kid, the removed key is refused after the refetch", async () => {
		const { idp, clock, check } = setup();
		idp.keys = [a];
		const old = await signWith(a, claims());
		expect(await check(old)).toBe(true);
		idp.keys = [c];
		clock.now = T0 + 61_000;
		expect(await check(await signWith(c, claims()))).toBe(true);
		expect(await check(old)).toBe(false);
		expect(idp.requests).toBe(2);
	});

	it("is never served more than 10 minutes after its fetch", async () => {
		const { idp, clock, check } = setup();
		idp.keys = [a];
		const token = await signWith(a, claims());
		expect(await check(token)).toBe(true);
		clock.now = T0 + 10 * 60_000 - 1;
		expect(await check(token)).toBe(true);
		expect(idp.requests).toBe(1);
		idp.mode = "500";
		clock.now = T0 + 10 * 60_000;
		expect(await check(token)).toBe(false);
		expect(idp.requests).toBe(2);
		idp.mode = "ok";
		clock.now += REMOTE_JWKS_DEFAULTS.failureRetryMs;
		expect(await check(token)).toBe(true);
		expect(idp.requests).toBe(3);
	});

	for (const mode of ["500", "network", "not-json", "hang"] as const) {
		it(`a fetch that fails (${mode}) refuses the token, never throws, and is retried only after the failure backoff`, async () => {
			const { idp, clock, check } = setup();
			idp.keys = [a];
			idp.mode = mode;
			const token = await signWith(a, claims());
			const started = Date.now();
			expect(await check(token)).toBe(false);
			// A hung endpoint costs at most the timeout (200 ms here), on this token only.
			expect(Date.now() - started).toBeLessThan(2_000);
			expect(await check(token)).toBe(false);
			expect(idp.requests).toBe(1);
			idp.mode = "ok";
			clock.now += REMOTE_JWKS_DEFAULTS.failureRetryMs;
			expect(await check(token)).toBe(true);
			expect(idp.requests).toBe(2);
		});
	}

	it("HS256 tokens never wait on it, even while it hangs", async () => {
		const { idp, check } = setup({ timeoutMs: 1_000 });
		idp.mode = "hang";
		let settled = false;
		const pending = check(await signWith(a, claims())).finally(() => {
			settled = true;
		});
		expect(await check(await signAccessToken(claims(), SECRET))).toBe(true);
		expect(settled).toBe(false);
		expect(idp.requests).toBe(1);
		expect(await pending).toBe(false);
	});

	it("concurrent tokens share one fetch", async () => {
		const { idp, check } = setup();
		idp.keys = [a, b, c];
		const tokens = await Promise.all([a, b, c, a, b].map((k) => signWith(k, claims())));
		expect(await Promise.all(tokens.map(check))).toEqual([true, true, true, true, true]);
		expect(idp.requests).toBe(1);
	});

	it("counts the minute from the last fetch even when that fetch failed", async () => {
		const { idp, clock, check } = setup();
		idp.keys = [a];
		expect(await check(await signWith(a, claims()))).toBe(true);
		idp.mode = "500";
		clock.now = T0 + 60_000;
		expect(await check(await signWith(b, claims()))).toBe(false);
		expect(idp.requests).toBe(2);
		idp.mode = "ok";
		idp.keys = [a, b];
		clock.now = T0 + 119_999;
		expect(await check(await signWith(b, claims()))).toBe(false);
		expect(idp.requests).toBe(2);
		// The cached set survived the failed refetch.
		expect(await check(await signWith(a, claims()))).toBe(true);
		clock.now = T0 + 120_000;
		expect(await check(await signWith(b, claims()))).toBe(true);
		expect(idp.requests).toBe(3);
	});
});
