/**
 * Identity-provider tokens, roles and CORS against a real `wrangler dev` (CONTRACT.md §11). The
 * test runs its own identity provider on loopback (test/e2e/harness/idp-server.ts): the Worker
 * fetches the JWK Set from it (BATON_JWKS_URL over http to 127.0.0.1), and the test counts those
 * fetches. This server has no BATON_JWT_SECRET at all: every token comes from the key set, and
 * resume tokens are signed with the room's own key. Keys are made at test time.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { AckFrame, ErrorFrame } from "../../protocol/messages.ts";
import { signAccessToken } from "../../src/core/auth/sign.ts";
import { makeKey, signWith, type TestKey } from "../fixtures/test-idp.ts";
import { launchChromium } from "./harness/browser.ts";
import { TestClient, uniqueRoom } from "./harness/client.ts";
import { IdpServer } from "./harness/idp-server.ts";
import { DevServer, TEST_SECRET } from "./harness/server.ts";

const ISSUER = "https://tenant.idp.example/";
const AUDIENCE = "baton-e2e";
/** BATON_JWKS_MIN_REFETCH_MS for this server: short, so the unknown-kid rule is observable. */
const MIN_REFETCH_MS = 3_000;

describe("identity-provider tokens against wrangler dev", () => {
	let idp: IdpServer;
	let server: DevServer;
	let rsa: TestKey;
	let ec: TestKey;
	let ed: TestKey;

	const claims = (sub: string, rooms: string[], extra: Record<string, unknown> = {}) => ({
		sub,
		rooms,
		exp: Math.floor(Date.now() / 1000) + 3600,
		iss: ISSUER,
		aud: [AUDIENCE, "other"],
		...extra,
	});
	const roomUrl = (room: string) => `${server.url}/v1/rooms/${encodeURIComponent(room)}`;
	const get = async (room: string, token: string) => {
		const res = await fetch(roomUrl(room), { headers: { Authorization: `Bearer ${token}` } });
		return { status: res.status, body: (await res.json()) as Record<string, unknown> };
	};
	const refused = async (room: string, token: string) => {
		const { client } = { client: await TestClient.open(server.wsUrl, room, token) };
		return client.waitClosed();
	};

	beforeAll(async () => {
		[rsa, ec, ed] = await Promise.all([makeKey("RS256"), makeKey("ES256"), makeKey("EdDSA")]);
		idp = await IdpServer.start([rsa, ec, ed]);
		server = await DevServer.start({
			vars: {
				BATON_JWT_SECRET: "",
				BATON_JWKS_URL: idp.jwksUrl,
				BATON_JWKS_MIN_REFETCH_MS: String(MIN_REFETCH_MS),
				BATON_JWT_ISSUER: ISSUER,
				BATON_JWT_AUDIENCE: AUDIENCE,
				BATON_ALLOWED_ORIGINS: idp.origin("127.0.0.1"),
			},
		});
	});
	afterAll(async () => {
		await server?.stop();
		await idp?.stop();
	});

	it("RS256, ES256 and EdDSA tokens are accepted with the right key (one JWK Set fetch), refused with another key", async () => {
		const room = uniqueRoom("idp");
		for (const key of [rsa, ec, ed]) {
			expect((await get(room, await signWith(key, claims(`u-${key.alg}`, [room])))).status, key.alg).toBe(200);
			const { client, welcome } = await TestClient.connect(server.wsUrl, room, await signWith(key, claims(`u-${key.alg}`, [room])));
			expect(welcome.type).toBe("welcome");
			await client.close();
		}
		expect(idp.jwksRequests).toHaveLength(1);
		for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
			const impostor = await makeKey(alg, [rsa, ec, ed].find((k) => k.alg === alg)?.kid);
			const token = await signWith(impostor, claims("mallory", [room]));
			expect(await get(room, token)).toMatchObject({ status: 401, body: { error: { code: ErrorCode.Unauthorized } } });
			expect(await refused(room, token)).toEqual({ code: CloseCode.Unauthorized, reason: JSON.stringify({ code: ErrorCode.Unauthorized }) });
		}
		// Known kids: the impostors cost no fetch.
		expect(idp.jwksRequests).toHaveLength(1);
	});

	it("a new kid triggers exactly one refetch once the interval has passed; a forged kid right after costs none", async () => {
		const room = uniqueRoom("kid");
		const added = await makeKey("RS256");
		idp.keys = [rsa, ec, ed, added];
		await idp.sinceLastFetch(MIN_REFETCH_MS);
		const before = idp.jwksRequests.length;
		expect((await get(room, await signWith(added, claims("new-kid", [room])))).status).toBe(200);
		expect(idp.jwksRequests.length - before).toBe(1);
		expect((await get(room, await signWith(added, claims("forged", [room]), { kid: "forged-kid" }))).status).toBe(401);
		expect((await get(room, await signWith(added, claims("new-kid", [room])))).status).toBe(200);
		expect(idp.jwksRequests.length - before).toBe(1);
	});

	it("key rotation: the IdP swaps RS256 keys; the new key's tokens are accepted, the retired key's refused", async () => {
		const room = uniqueRoom("rotate");
		const next = await makeKey("RS256");
		const retired = await signWith(rsa, claims("old", [room]));
		expect((await get(room, retired)).status).toBe(200);
		idp.keys = [next, ec, ed];
		await idp.sinceLastFetch(MIN_REFETCH_MS);
		const before = idp.jwksRequests.length;
		expect((await get(room, await signWith(next, claims("new", [room])))).status).toBe(200);
		expect((await get(room, retired)).status).toBe(401);
		expect(idp.jwksRequests.length - before).toBe(1);
		rsa = next;
	});

	it("HS256 (no secret here, even one made from the public key) and alg none are refused", async () => {
		const room = uniqueRoom("confuse");
		const forgedWith = [JSON.stringify(ec.publicJwk), ec.publicJwk.x as string, TEST_SECRET];
		for (const secret of forgedWith) {
			const token = await signAccessToken(claims("mallory", [room]), secret, { alg: "HS256", typ: "JWT", kid: ec.kid });
			expect((await get(room, token)).status).toBe(401);
		}
		const [, payload, sig] = (await signWith(ec, claims("mallory", [room]))).split(".");
		const none = Buffer.from(JSON.stringify({ alg: "none", kid: ec.kid })).toString("base64url");
		expect((await get(room, `${none}.${payload}.`)).status).toBe(401);
		expect((await get(room, `${none}.${payload}.${sig}`)).status).toBe(401);
		expect(await refused(room, `${none}.${payload}.`)).toMatchObject({ code: CloseCode.Unauthorized });
	});

	it("iss and aud are enforced: another issuer, another audience or none refused", async () => {
		const room = uniqueRoom("issaud");
		for (const extra of [{ iss: "https://evil.example/" }, { iss: undefined }, { aud: "other" }, { aud: undefined }]) {
			const c: Record<string, unknown> = claims("x", [room], extra);
			for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
			expect((await get(room, await signWith(ed, c))).status, JSON.stringify(extra)).toBe(401);
		}
	});

	it("preferred_username is the display name; a resume works without a shared secret; in-band auth takes an IdP token", async () => {
		const room = uniqueRoom("resume");
		const token = await signWith(ec, claims("auth0|42", [room], { preferred_username: "ada" }));
		const { client, welcome } = await TestClient.connect(server.wsUrl, room, token);
		expect(welcome.presence).toEqual([{ sub: "auth0|42", name: "ada" }]);
		expect(await client.publish("m1", "hello")).toMatchObject({ type: "ack", seq: 1, dup: false });
		const exp = Math.floor(Date.now() / 1000) + 7200;
		client.send({ type: "auth", token: await signWith(ed, claims("auth0|42", [room], { exp })) });
		expect(await client.next((f) => f.type === "auth_ok")).toEqual({ type: "auth_ok", exp });
		await client.close();

		const back = await TestClient.connect(server.wsUrl, room, token, { resume: welcome.resume, after: 1 });
		expect(back.welcome).toMatchObject({ resumed: true, session: welcome.session });
		expect((await back.client.publish("m1", "hello")) as AckFrame).toMatchObject({ type: "ack", seq: 1, dup: true });
		// An altered resume token starts a fresh session instead.
		await back.client.close();
		const altered = `${welcome.resume.slice(0, -2)}${welcome.resume.endsWith("AA") ? "BB" : "AA"}`;
		const fresh = await TestClient.connect(server.wsUrl, room, token, { resume: altered });
		expect(fresh.welcome.resumed).toBe(false);
		await fresh.client.close();
	});

	it("publish claim: a read-only viewer receives everything, its publishes are refused (socket and HTTP); the publisher is unaffected", async () => {
		const room = uniqueRoom("viewer");
		const viewerToken = await signWith(ed, claims("viewer", [room], { publish: [] }));
		const viewer = (await TestClient.connect(server.wsUrl, room, viewerToken, {}, "viewer")).client;
		const publisher = (await TestClient.connect(server.wsUrl, room, await signWith(rsa, claims("pub", [room])), {}, "publisher")).client;
		expect(await publisher.publish("p1", { n: 1 })).toMatchObject({ type: "ack", seq: 1 });
		expect((await viewer.publish("v1", { n: "no" })) as ErrorFrame).toMatchObject({ type: "error", code: ErrorCode.Forbidden, id: "v1" });
		expect(await publisher.publish("p2", { n: 2 })).toMatchObject({ type: "ack", seq: 2 });
		expect((await viewer.waitForMessages(2)).map((m) => [m.seq, m.from])).toEqual([
			[1, "pub"],
			[2, "pub"],
		]);
		const http = await fetch(`${roomUrl(room)}/messages`, {
			method: "POST",
			headers: { Authorization: `Bearer ${viewerToken}`, "Content-Type": "application/json" },
			body: JSON.stringify({ data: "no" }),
		});
		expect(http.status).toBe(403);
		expect(await http.json()).toMatchObject({ error: { code: ErrorCode.Forbidden } });
		expect(viewer.closeInfo).toBeNull();
		expect(await publisher.publish("p3", { n: 3 })).toMatchObject({ type: "ack", seq: 3 });
		await Promise.all([viewer.close(), publisher.close()]);
	});

	describe("CORS from a real Chromium page on another origin", () => {
		let browser: Browser;
		beforeAll(async () => {
			browser = await launchChromium();
		});
		afterAll(async () => {
			await browser?.close();
		});

		/** Opens the app page on `host` and runs the history fetch and two POSTs there. */
		async function callFrom(host: "127.0.0.1" | "localhost", room: string, token: string): Promise<unknown> {
			const page: Page = await (await browser.newContext()).newPage();
			try {
				await page.goto(idp.appUrl(host));
				return await page.evaluate(`(async () => {
					const url = ${JSON.stringify(`${roomUrl(room)}/messages`)};
					const auth = { Authorization: "Bearer " + ${JSON.stringify(token)} };
					try {
						const post = async () => {
							const r = await fetch(url, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify({ data: { from: "browser" }, id: "b1" }) });
							return { status: r.status, body: await r.json(), dup: r.headers.get("X-Baton-Dup") };
						};
						const first = await post();
						const again = await post();
						const h = await fetch(url, { headers: auth });
						return { first, again, history: { status: h.status, body: await h.json() } };
					} catch (err) {
						return { error: err.name + ": " + err.message };
					}
				})()`);
			} finally {
				await page.context().close();
			}
		}

		it("an allowed origin's page posts a message (preflighted), reads X-Baton-Dup and fetches history", async () => {
			const room = uniqueRoom("cors");
			const token = await signWith(ec, claims("browser", [room]));
			const result = (await callFrom("127.0.0.1", room, token)) as Record<string, { status: number; body: unknown; dup?: string }>;
			expect(result).toMatchObject({
				first: { status: 200, body: { seq: 1 }, dup: "false" },
				again: { status: 200, body: { seq: 1 }, dup: "true" },
				history: { status: 200, body: { seq: 1, messages: [{ seq: 1, id: "b1", from: "browser", data: { from: "browser" } }] } },
			});
		});

		it("a disallowed origin's page is refused: the browser sees a failed fetch, the server answers 403 origin_not_allowed and stores nothing", async () => {
			const room = uniqueRoom("cors-no");
			const token = await signWith(ec, claims("browser", [room]));
			const result = (await callFrom("localhost", room, token)) as { error?: string };
			expect(result.error).toMatch(/^TypeError/);
			const direct = await fetch(`${roomUrl(room)}/messages`, { headers: { Authorization: `Bearer ${token}`, Origin: idp.origin("localhost") } });
			expect(direct.status).toBe(403);
			expect(await direct.json()).toMatchObject({ error: { code: ErrorCode.OriginNotAllowed } });
			const stored = await get(room, token);
			expect(stored).toMatchObject({ status: 200, body: { seq: 0 } });
		});
	});
});
