/**
 * Identity-provider tokens through the gateway (CONTRACT.md §11): RS256 / ES256 / EdDSA with keys
 * of BATON_JWKS (inline) or BATON_JWKS_URL (fetched; here the Worker's own `fetch` is answered by
 * the test, which counts the requests), algorithm confusion, iss / aud, preferred_username, and
 * what happens when the set cannot be fetched. Keys are made at test time.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { PROTOCOL, type WelcomeFrame } from "../../protocol/messages.ts";
import { signAccessToken } from "../../src/core/auth/sign.ts";
import { ASYMMETRIC_ALGS, jwkSet, makeKey, signWith, type TestKey } from "../fixtures/test-idp.ts";
import { claimsFor, expectErrorResponse, expectRefusal, gatewayWith, leaveRoom, muteInfoLogs, SECRET, TestSocket, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

let jwksCounter = 0;

/** A JWKS endpoint of its own (a unique URL, so a unique cache in the isolate), answered in-process. */
class Endpoint {
	readonly url = `https://idp-${++jwksCounter}-${crypto.randomUUID().slice(0, 6)}.example/.well-known/jwks.json`;
	keys: TestKey[] = [];
	mode: "ok" | "500" | "network" = "ok";
	requests: number[] = [];
}

const endpoints = new Map<string, Endpoint>();
const realFetch = globalThis.fetch;

function serve(keys: TestKey[]): Endpoint {
	const endpoint = new Endpoint();
	endpoint.keys = keys;
	endpoints.set(endpoint.url, endpoint);
	return endpoint;
}

beforeAll(() => {
	vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
		const url = input instanceof Request ? input.url : String(input);
		const endpoint = endpoints.get(url);
		if (endpoint === undefined) return realFetch(input, init);
		endpoint.requests.push(Date.now());
		if (endpoint.mode === "network") throw new TypeError("network connection lost");
		if (endpoint.mode === "500") return new Response("down", { status: 500 });
		return Response.json(jwkSet(endpoint.keys));
	});
});

afterEach(() => endpoints.clear());

const roomPath = (room: string) => `/v1/rooms/${encodeURIComponent(room)}`;
const bearer = (token: string): RequestInit => ({ headers: { Authorization: `Bearer ${token}` } });

/** GET room info with `token` under `vars`; returns the status. */
async function status(vars: Record<string, string | undefined>, room: string, token: string): Promise<number> {
	const res = await gatewayWith(vars, roomPath(room), bearer(token));
	await res.body?.cancel();
	return res.status;
}

/** Opens a socket through the gateway with other bindings. */
async function upgrade(vars: Record<string, string | undefined>, room: string, token: string): Promise<TestSocket> {
	const res = await gatewayWith(vars, `${roomPath(room)}/ws`, {
		headers: { Upgrade: "websocket", Authorization: `Bearer ${token}`, "Sec-WebSocket-Protocol": PROTOCOL },
	});
	const ws = res.webSocket;
	if (res.status !== 101 || ws === null) throw new Error(`upgrade answered ${res.status}`);
	return new TestSocket(ws, res, `socket(${room})`);
}

const keys = new Map<string, TestKey>();
const strangers = new Map<string, TestKey>();
beforeAll(async () => {
	for (const alg of ASYMMETRIC_ALGS) {
		keys.set(alg, await makeKey(alg));
		strangers.set(alg, await makeKey(alg, keys.get(alg)?.kid));
	}
});
const key = (alg: string) => keys.get(alg) as TestKey;

describe("tokens signed by an identity provider's keys", () => {
	for (const alg of ASYMMETRIC_ALGS) {
		it(`${alg} with a key of the inline BATON_JWKS is accepted; the same kid with another key answers 401`, async () => {
			const vars = { BATON_JWKS: JSON.stringify(jwkSet([...keys.values()])) };
			const room = uniqueRoom();
			expect(await status(vars, room, await signWith(key(alg), claimsFor([room])))).toBe(200);
			await expectErrorResponse(
				await gatewayWith(vars, roomPath(room), bearer(await signWith(strangers.get(alg) as TestKey, claimsFor([room])))),
				401,
				ErrorCode.Unauthorized,
			);
		});

		it(`${alg} with a key of BATON_JWKS_URL is accepted (one fetch), and refused with another key`, async () => {
			const endpoint = serve([...keys.values()]);
			const vars = { BATON_JWKS_URL: endpoint.url };
			const room = uniqueRoom();
			expect(await status(vars, room, await signWith(key(alg), claimsFor([room])))).toBe(200);
			expect(await status(vars, room, await signWith(key(alg), claimsFor([room])))).toBe(200);
			expect(await status(vars, room, await signWith(strangers.get(alg) as TestKey, claimsFor([room])))).toBe(401);
			expect(endpoint.requests).toHaveLength(1);
		});
	}

	it("an upgrade with an IdP token is welcomed; with a wrong key it closes 4001", async () => {
		const endpoint = serve([key("ES256")]);
		const vars = { BATON_JWKS_URL: endpoint.url };
		const room = uniqueRoom();
		const socket = await upgrade(vars, room, await signWith(key("ES256"), claimsFor([room], { sub: "idp-user" })));
		expect((await socket.welcome()).presence).toEqual([{ sub: "idp-user", name: "idp-user" }]);
		await expectRefusal(await upgrade(vars, room, await signWith(strangers.get("ES256") as TestKey, claimsFor([room]))), CloseCode.Unauthorized, {
			code: ErrorCode.Unauthorized,
		});
		await leaveRoom(room, socket);
	});

	it("preferred_username is the display name when there is no name claim", async () => {
		const vars = { BATON_JWKS: JSON.stringify(jwkSet([key("EdDSA")])) };
		const room = uniqueRoom();
		const token = await signWith(key("EdDSA"), claimsFor([room], { sub: "auth0|123", preferred_username: "ada" }));
		const socket = await upgrade(vars, room, token);
		const welcome: WelcomeFrame = await socket.welcome();
		expect(welcome.presence).toEqual([{ sub: "auth0|123", name: "ada" }]);
		await leaveRoom(room, socket);
	});

	it("HS256 keeps working beside the key sets, and HS256 signed with a public key answers 401", async () => {
		const endpoint = serve([key("RS256")]);
		const vars = { BATON_JWKS_URL: endpoint.url, BATON_JWKS: JSON.stringify(jwkSet([key("ES256")])) };
		const room = uniqueRoom();
		expect(await status(vars, room, await signAccessToken(claimsFor([room]), SECRET))).toBe(200);
		for (const publicText of [JSON.stringify(key("RS256").publicJwk), JSON.stringify(jwkSet([key("RS256")]))]) {
			const forged = await signAccessToken(claimsFor([room]), publicText, { alg: "HS256", typ: "JWT", kid: key("RS256").kid });
			await expectErrorResponse(await gatewayWith(vars, roomPath(room), bearer(forged)), 401, ErrorCode.Unauthorized);
		}
		// Without a secret at all, HS256 is refused outright.
		const noSecret = { ...vars, BATON_JWT_SECRET: undefined };
		expect(await status(noSecret, room, await signAccessToken(claimsFor([room]), SECRET))).toBe(401);
		expect(await status(noSecret, room, await signWith(key("RS256"), claimsFor([room])))).toBe(200);
	});

	it('alg "none" and an alg that does not match the key type answer 401', async () => {
		const vars = { BATON_JWKS: JSON.stringify(jwkSet([...keys.values()])) };
		const room = uniqueRoom();
		const [, payload, sig] = (await signWith(key("RS256"), claimsFor([room]))).split(".");
		const none = (h: Record<string, unknown>) => `${btoa(JSON.stringify(h)).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_")}.${payload}.`;
		expect(await status(vars, room, none({ alg: "none", typ: "JWT" }))).toBe(401);
		expect(await status(vars, room, `${none({ alg: "none", kid: key("RS256").kid })}${sig}`)).toBe(401);
		// An RS256 header naming the EC key's kid, signed with the RSA key.
		expect(await status(vars, room, await signWith(key("RS256"), claimsFor([room]), { kid: key("ES256").kid }))).toBe(401);
		expect(await status(vars, room, await signWith(key("EdDSA"), claimsFor([room]), { kid: key("RS256").kid }))).toBe(401);
	});
});

describe("BATON_JWT_ISSUER and BATON_JWT_AUDIENCE", () => {
	const vars = () => ({ BATON_JWKS: JSON.stringify(jwkSet([key("RS256")])), BATON_JWT_ISSUER: "https://tenant.idp.example/", BATON_JWT_AUDIENCE: "baton-api" });
	const good = { iss: "https://tenant.idp.example/", aud: ["baton-api", "other"] };

	it("a token with the issuer and audience is accepted, HS256 and RS256 alike", async () => {
		const room = uniqueRoom();
		expect(await status(vars(), room, await signWith(key("RS256"), claimsFor([room], good)))).toBe(200);
		expect(await status(vars(), room, await signAccessToken(claimsFor([room], good), SECRET))).toBe(200);
	});

	it.each([
		["another issuer", { ...good, iss: "https://evil.example/" }],
		["no issuer", { ...good, iss: undefined }],
		["another audience", { ...good, aud: "other" }],
		["no audience", { ...good, aud: undefined }],
	])("a token with %s answers 401 (HS256 and RS256)", async (_name, claims) => {
		const room = uniqueRoom();
		await expectErrorResponse(
			await gatewayWith(vars(), roomPath(room), bearer(await signWith(key("RS256"), claimsFor([room], claims)))),
			401,
			ErrorCode.Unauthorized,
		);
		await expectErrorResponse(
			await gatewayWith(vars(), roomPath(room), bearer(await signAccessToken(claimsFor([room], claims), SECRET))),
			401,
			ErrorCode.Unauthorized,
		);
	});
});

describe("the fetched set: unknown kids, rotation, failures", () => {
	/** Waits until `ms` have passed since the endpoint's last request (the rule under test is a time). */
	const sinceLastFetch = async (endpoint: Endpoint, ms: number) => {
		const last = endpoint.requests.at(-1) ?? 0;
		while (Date.now() < last + ms) await new Promise((r) => setTimeout(r, last + ms - Date.now()));
	};

	it("an unknown kid is refused without a fetch within the minimum interval, then triggers exactly one refetch", async () => {
		const a = await makeKey("RS256");
		const b = await makeKey("RS256");
		const endpoint = serve([a]);
		const vars = { BATON_JWKS_URL: endpoint.url, BATON_JWKS_MIN_REFETCH_MS: "400" };
		const room = uniqueRoom();
		expect(await status(vars, room, await signWith(a, claimsFor([room])))).toBe(200);
		endpoint.keys = [a, b];
		expect(await status(vars, room, await signWith(b, claimsFor([room])))).toBe(401);
		expect(endpoint.requests).toHaveLength(1);
		await sinceLastFetch(endpoint, 400);
		expect(await status(vars, room, await signWith(b, claimsFor([room])))).toBe(200);
		expect(await status(vars, room, await signWith(b, claimsFor([room]), { kid: "forged" }))).toBe(401);
		expect(endpoint.requests).toHaveLength(2);
	});

	it("with the default interval, a burst of forged kids costs no request beyond the first fetch", async () => {
		const a = await makeKey("ES256");
		const endpoint = serve([a]);
		const vars = { BATON_JWKS_URL: endpoint.url };
		const room = uniqueRoom();
		expect(await status(vars, room, await signWith(a, claimsFor([room])))).toBe(200);
		for (let i = 0; i < 5; i++) expect(await status(vars, room, await signWith(a, claimsFor([room]), { kid: `forged-${i}` }))).toBe(401);
		expect(endpoint.requests).toHaveLength(1);
	});

	it("key rotation: the new key's tokens are accepted after its refetch, the retired key's refused", async () => {
		const oldKey = await makeKey("EdDSA");
		const newKey = await makeKey("EdDSA");
		const endpoint = serve([oldKey]);
		const vars = { BATON_JWKS_URL: endpoint.url, BATON_JWKS_MIN_REFETCH_MS: "300" };
		const room = uniqueRoom();
		const before = await signWith(oldKey, claimsFor([room]));
		expect(await status(vars, room, before)).toBe(200);
		endpoint.keys = [newKey];
		await sinceLastFetch(endpoint, 300);
		expect(await status(vars, room, await signWith(newKey, claimsFor([room])))).toBe(200);
		expect(await status(vars, room, before)).toBe(401);
		expect(endpoint.requests).toHaveLength(2);
	});

	for (const mode of ["500", "network"] as const) {
		it(`while the set cannot be fetched (${mode}), its tokens get 401 and upgrades 4001; HS256 tokens are served`, async () => {
			const a = await makeKey("RS256");
			const endpoint = serve([a]);
			endpoint.mode = mode;
			const vars = { BATON_JWKS_URL: endpoint.url };
			const room = uniqueRoom();
			await expectErrorResponse(await gatewayWith(vars, roomPath(room), bearer(await signWith(a, claimsFor([room])))), 401, ErrorCode.Unauthorized);
			await expectRefusal(await upgrade(vars, room, await signWith(a, claimsFor([room]))), CloseCode.Unauthorized, { code: ErrorCode.Unauthorized });
			expect(await status(vars, room, await signAccessToken(claimsFor([room]), SECRET))).toBe(200);
			const res = await gatewayWith(vars, "/healthz");
			expect(res.status).toBe(200);
			await res.body?.cancel();
		});
	}
});

describe("verification settings", () => {
	it("a JWK Set alone (no secret) serves; no key setting at all is server_misconfigured", async () => {
		const only = { BATON_JWT_SECRET: undefined, BATON_JWKS: JSON.stringify(jwkSet([key("RS256")])) };
		expect((await (await gatewayWith(only, "/healthz")).json()) as object).toMatchObject({ ok: true });
		const none = { BATON_JWT_SECRET: undefined, BATON_JWKS: undefined, BATON_JWKS_URL: undefined };
		const res = await gatewayWith(none, "/healthz");
		expect(res.status).toBe(503);
		expect(await res.json()).toMatchObject({ ok: false, error: ErrorCode.ServerMisconfigured });
	});

	it.each([
		["BATON_JWKS that is not JSON", { BATON_JWKS: "{nope" }],
		["BATON_JWKS without a keys array", { BATON_JWKS: '{"kty":"RSA"}' }],
		["an http:// BATON_JWKS_URL to a non-loopback host", { BATON_JWKS_URL: "http://idp.example/jwks.json" }],
		["a BATON_JWKS_URL that is not a URL", { BATON_JWKS_URL: "jwks.json" }],
	])("%s is server_misconfigured (500 on room routes, 503 on /healthz), even beside a secret", async (_name, vars) => {
		const room = uniqueRoom();
		await expectErrorResponse(
			await gatewayWith(vars, roomPath(room), bearer(await signAccessToken(claimsFor([room]), SECRET))),
			500,
			ErrorCode.ServerMisconfigured,
		);
		const res = await gatewayWith(vars, "/healthz");
		expect(res.status).toBe(503);
		await res.body?.cancel();
	});

	it("an http:// BATON_JWKS_URL to a loopback host is accepted (local testing)", async () => {
		for (const url of ["http://127.0.0.1:9/jwks.json", "http://localhost:9/jwks.json", "http://[::1]:9/jwks.json"]) {
			const res = await gatewayWith({ BATON_JWKS_URL: url }, "/healthz");
			expect(res.status, url).toBe(200);
			await res.body?.cancel();
		}
	});
});
