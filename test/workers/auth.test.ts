/**
 * The gateway's refusals (CONTRACT.md §3, §4, §9): the auth matrix on HTTP routes, the order in
 * which refusals win, where tokens are looked for, refused upgrades (101 + one close, no room
 * woken), the admin token, and the unauthenticated routes.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json" with { type: "json" };
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { PROTOCOL } from "../../protocol/messages.ts";
import { encodeJsonBase64Url } from "../../src/core/auth/base64url.ts";
import { createGateway } from "../../src/gateway/app.ts";
import {
	ALLOWED_ORIGIN,
	admin,
	api,
	claimsFor,
	expectErrorResponse,
	expectRefusal,
	FOREIGN_ORIGIN,
	mintToken,
	muteInfoLogs,
	nowSeconds,
	openSocket,
	roomExists,
	SECRET,
	stats,
	TestSocket,
	tokenFor,
	uniqueRoom,
} from "./helpers.ts";

muteInfoLogs();

const roomPath = (room: string) => `/v1/rooms/${encodeURIComponent(room)}`;
const historyPath = (room: string) => `${roomPath(room)}/messages`;

/** The two read routes every auth case is checked on. */
const ROUTES = [
	{ name: "GET /v1/rooms/:room", path: roomPath },
	{ name: "GET /v1/rooms/:room/messages", path: historyPath },
] as const;

/** Tokens the gateway must refuse with 401, each built for the room under test. */
const UNAUTHORIZED_TOKENS: Array<{ name: string; make: (room: string) => Promise<string> }> = [
	{ name: "a malformed token (not three parts)", make: async () => "not-a-jwt" },
	{ name: "a malformed token (four parts)", make: async (room) => `${await tokenFor(room)}.extra` },
	{ name: "a token whose parts are not base64url", make: async () => "a+b.c/d.e=f" },
	{ name: "a token signed with another secret", make: (room) => mintToken(claimsFor([room]), { secret: `${SECRET}-other` }) },
	{
		name: "a token with a tampered payload",
		make: async (room) => {
			const [h, , s] = (await tokenFor(room)).split(".");
			return `${h}.${encodeJsonBase64Url(claimsFor([room], { sub: "mallory" }))}.${s}`;
		},
	},
	{
		name: 'an alg "none" token with an empty signature',
		make: async (room) => `${encodeJsonBase64Url({ alg: "none", typ: "JWT" })}.${encodeJsonBase64Url(claimsFor([room]))}.`,
	},
	{ name: 'an alg "none" header over a valid HMAC', make: (room) => mintToken(claimsFor([room]), { header: { alg: "none", typ: "JWT" } }) },
	{ name: "an HS512 token", make: (room) => mintToken(claimsFor([room]), { header: { alg: "HS512", typ: "JWT" } }) },
	{ name: "a token whose header has no alg", make: (room) => mintToken(claimsFor([room]), { header: { typ: "JWT" } }) },
	{ name: "a token without exp", make: (room) => mintToken(claimsFor([room], { exp: undefined })) },
	{ name: "a token with a string exp", make: (room) => mintToken(claimsFor([room], { exp: String(nowSeconds() + 3600) })) },
	{ name: "a token expired beyond the 5 s leeway", make: (room) => mintToken(claimsFor([room], { exp: nowSeconds() - 30 })) },
	{ name: "a token whose nbf is ahead beyond the leeway", make: (room) => mintToken(claimsFor([room], { nbf: nowSeconds() + 60 })) },
	{ name: "a token without sub", make: (room) => mintToken(claimsFor([room], { sub: undefined })) },
	{ name: "a token with an empty sub", make: (room) => mintToken(claimsFor([room], { sub: "" })) },
	{ name: "a token with a 129-character sub", make: (room) => mintToken(claimsFor([room], { sub: "s".repeat(129) })) },
	{ name: "a token with a numeric sub", make: (room) => mintToken(claimsFor([room], { sub: 42 })) },
	{ name: "a token whose rooms claim is not an array", make: (room) => mintToken(claimsFor([room], { rooms: room })) },
];

describe("HTTP routes refuse bad tokens with 401 unauthorized", () => {
	for (const route of ROUTES) {
		it(`${route.name} without any token answers 401 unauthorized`, async () => {
			await expectErrorResponse(await api(route.path(uniqueRoom())), 401, ErrorCode.Unauthorized);
		});

		it(`${route.name} with an Authorization header that is not a Bearer token answers 401`, async () => {
			const room = uniqueRoom();
			const token = await tokenFor(room);
			await expectErrorResponse(await api(route.path(room), { headers: { Authorization: `Basic ${token}` } }), 401, ErrorCode.Unauthorized);
			await expectErrorResponse(await api(route.path(room), { headers: { Authorization: "Bearer " } }), 401, ErrorCode.Unauthorized);
		});

		for (const bad of UNAUTHORIZED_TOKENS) {
			it(`${route.name} with ${bad.name} answers 401 unauthorized`, async () => {
				const room = uniqueRoom();
				await expectErrorResponse(await api(route.path(room), { token: await bad.make(room) }), 401, ErrorCode.Unauthorized);
			});
		}
	}
});

describe("HTTP routes accept valid tokens, within the clock leeway", () => {
	it("a fresh token granting the room reads room info with every field of §3", async () => {
		const room = uniqueRoom();
		const res = await api(roomPath(room), { token: await tokenFor(room) });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ room, home: "wnam", seq: 0, connections: 0, presence: [], presenceCount: 0 });
	});

	it.each([
		["expired 2 s ago (inside the 5 s leeway)", () => ({ exp: nowSeconds() - 2 })],
		["not valid for another 2 s (inside the leeway)", () => ({ nbf: nowSeconds() + 2 })],
		["with a 128-character sub", () => ({ sub: "s".repeat(128) })],
		["with extra registered claims (iat, iss, jti)", () => ({ iat: nowSeconds(), iss: "issuer", jti: "abc" })],
	])("a token %s is accepted", async (_name, overrides) => {
		const room = uniqueRoom();
		const token = await mintToken(claimsFor([room], overrides()));
		expect((await api(historyPath(room), { token })).status).toBe(200);
	});
});

describe("room claims decide 403 forbidden", () => {
	it("a valid token whose rooms claim lacks the room answers 403 forbidden", async () => {
		const room = uniqueRoom();
		const token = await mintToken(claimsFor([`${room}-other`]));
		await expectErrorResponse(await api(roomPath(room), { token }), 403, ErrorCode.Forbidden);
		await expectErrorResponse(await api(historyPath(room), { token }), 403, ErrorCode.Forbidden);
	});

	it("a valid token without a rooms claim is granted no room", async () => {
		const room = uniqueRoom();
		const token = await mintToken(claimsFor([room], { rooms: undefined }));
		await expectErrorResponse(await api(roomPath(room), { token }), 403, ErrorCode.Forbidden);
	});

	it("a prefix claim team-* grants team-x but not teamx", async () => {
		const prefix = `t${crypto.randomUUID().slice(0, 8)}`;
		const token = await mintToken(claimsFor([`${prefix}-*`]));
		expect((await api(roomPath(`${prefix}-x`), { token })).status).toBe(200);
		expect((await api(roomPath(`${prefix}-`), { token })).status).toBe(200);
		await expectErrorResponse(await api(roomPath(`${prefix}x`), { token }), 403, ErrorCode.Forbidden);
		await expectErrorResponse(await api(roomPath(prefix), { token }), 403, ErrorCode.Forbidden);
	});

	it("an exact claim does not grant rooms that merely start with it", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room);
		await expectErrorResponse(await api(roomPath(`${room}x`), { token }), 403, ErrorCode.Forbidden);
	});
});

describe("origin, room name and upgrade checks", () => {
	it("a foreign Origin answers 403 origin_not_allowed even with a valid token", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room);
		await expectErrorResponse(await api(roomPath(room), { token, origin: FOREIGN_ORIGIN }), 403, ErrorCode.OriginNotAllowed);
		await expectErrorResponse(await api(historyPath(room), { token, origin: FOREIGN_ORIGIN }), 403, ErrorCode.OriginNotAllowed);
	});

	it("an allowed Origin, or none at all, passes", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room);
		expect((await api(roomPath(room), { token, origin: ALLOWED_ORIGIN })).status).toBe(200);
		expect((await api(roomPath(room), { token })).status).toBe(200);
	});

	it("the origin allow-list applies to every route, /healthz and admin included", async () => {
		await expectErrorResponse(await api("/healthz", { origin: FOREIGN_ORIGIN }), 403, ErrorCode.OriginNotAllowed);
		await expectErrorResponse(await api("/v1/regions", { origin: FOREIGN_ORIGIN }), 403, ErrorCode.OriginNotAllowed);
		const res = await api(`/v1/admin/rooms/${uniqueRoom()}/stats`, { origin: FOREIGN_ORIGIN, headers: { Authorization: "Bearer test-admin-token" } });
		await expectErrorResponse(res, 403, ErrorCode.OriginNotAllowed);
	});

	it.each([
		["starting with a dash", "-room"],
		["starting with a dot", ".room"],
		["containing a space", "a b"],
		["containing a slash-free but illegal character", "room!"],
		["of 129 characters", `r${"x".repeat(128)}`],
	])("a room name %s answers 400 bad_room", async (_name, room) => {
		const token = await mintToken(claimsFor(["*"]));
		await expectErrorResponse(await api(roomPath(room), { token }), 400, ErrorCode.BadRoom);
		await expectErrorResponse(await api(historyPath(room), { token }), 400, ErrorCode.BadRoom);
	});

	it("a 128-character room name with every allowed character class is valid", async () => {
		const room = `A0._:-${"z".repeat(122)}`;
		expect(room).toHaveLength(128);
		const token = await mintToken(claimsFor(["*"]));
		expect((await api(roomPath(room), { token })).status).toBe(200);
	});

	it("/ws without Upgrade: websocket answers 426 upgrade_required, before any other check", async () => {
		const room = uniqueRoom();
		await expectErrorResponse(await api(`${roomPath(room)}/ws`, { token: await tokenFor(room) }), 426, ErrorCode.UpgradeRequired);
		await expectErrorResponse(await api(`${roomPath(room)}/ws`), 426, ErrorCode.UpgradeRequired);
		await expectErrorResponse(await api("/v1/rooms/-bad/ws", { origin: FOREIGN_ORIGIN }), 426, ErrorCode.UpgradeRequired);
		await expectErrorResponse(await api(`${roomPath(room)}/ws`, { headers: { Upgrade: "h2c" } }), 426, ErrorCode.UpgradeRequired);
	});
});

describe("which refusal wins (§9)", () => {
	it("bad_room beats a bad token", async () => {
		await expectErrorResponse(await api(roomPath("-bad"), { token: "garbage" }), 400, ErrorCode.BadRoom);
	});

	it("bad_room beats a foreign origin", async () => {
		await expectErrorResponse(await api(roomPath("-bad"), { origin: FOREIGN_ORIGIN }), 400, ErrorCode.BadRoom);
	});

	it("origin_not_allowed beats a bad or missing token", async () => {
		const room = uniqueRoom();
		await expectErrorResponse(await api(roomPath(room), { token: "garbage", origin: FOREIGN_ORIGIN }), 403, ErrorCode.OriginNotAllowed);
		await expectErrorResponse(await api(roomPath(room), { origin: FOREIGN_ORIGIN }), 403, ErrorCode.OriginNotAllowed);
	});

	it("unauthorized beats forbidden: an expired token for a room it does not grant answers 401", async () => {
		const room = uniqueRoom();
		const token = await mintToken(claimsFor(["elsewhere"], { exp: nowSeconds() - 60 }));
		await expectErrorResponse(await api(roomPath(room), { token }), 401, ErrorCode.Unauthorized);
	});

	it("on upgrades too: bad_room (4400) beats origin (4003) beats token (4001)", async () => {
		await expectRefusal(await openSocket("-bad", { token: "garbage", origin: FOREIGN_ORIGIN }), CloseCode.BadRequest, { code: ErrorCode.BadRoom });
		await expectRefusal(await openSocket(uniqueRoom(), { token: "garbage", origin: FOREIGN_ORIGIN }), CloseCode.Forbidden, {
			code: ErrorCode.OriginNotAllowed,
		});
	});

	it("a bad token beats bad parameters: after=-1 with a bad token closes 4001", async () => {
		await expectRefusal(await openSocket(uniqueRoom(), { token: "garbage", after: -1 }), CloseCode.Unauthorized, { code: ErrorCode.Unauthorized });
	});
});

describe("where the gateway looks for the token (§4, §9)", () => {
	it("HTTP routes accept the token from the Authorization header or ?token=", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room);
		expect((await api(roomPath(room), { token })).status).toBe(200);
		expect((await api(`${roomPath(room)}?token=${token}`)).status).toBe(200);
		expect((await api(`${historyPath(room)}?token=${token}`)).status).toBe(200);
	});

	it("a bad header token does not fall through to a good ?token=", async () => {
		const room = uniqueRoom();
		const good = await tokenFor(room);
		await expectErrorResponse(await api(`${roomPath(room)}?token=${good}`, { token: "garbage" }), 401, ErrorCode.Unauthorized);
		await expectErrorResponse(await api(`${roomPath(room)}?token=${good}`, { headers: { Authorization: "Bearer" } }), 401, ErrorCode.Unauthorized);
	});

	it("an upgrade accepts the token from the header, ?token= or the baton.auth.<jwt> subprotocol", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room);
		for (const place of ["header", "query", "subprotocol"] as const) {
			const socket = await openSocket(room, { token, place, label: place });
			expect(socket.response.status).toBe(101);
			expect(socket.response.headers.get("Sec-WebSocket-Protocol")).toBe(PROTOCOL);
			expect((await socket.nextEvent()).kind).toBe("frame");
			expect(socket.frames()[0]?.type).toBe("welcome");
			socket.close();
		}
	});

	it("a bad header token on an upgrade does not fall through to ?token= or the subprotocol", async () => {
		const room = uniqueRoom();
		const good = await tokenFor(room);
		const socket = await openSocket(room, {
			headers: { Authorization: "Bearer garbage", "Sec-WebSocket-Protocol": `${PROTOCOL}, baton.auth.${good}` },
			query: { token: good },
			offerProtocol: false,
		});
		await expectRefusal(socket, CloseCode.Unauthorized, { code: ErrorCode.Unauthorized });
	});

	it("a bad ?token= does not fall through to a good subprotocol token", async () => {
		const room = uniqueRoom();
		const good = await tokenFor(room);
		const socket = await openSocket(room, { token: good, place: "subprotocol", query: { token: "garbage" } });
		await expectRefusal(socket, CloseCode.Unauthorized, { code: ErrorCode.Unauthorized });
	});
});

describe("refused upgrades complete with 101 and close at once, without waking the room", () => {
	const cases: Array<{
		name: string;
		room?: string;
		connect: (room: string) => Promise<Parameters<typeof openSocket>[1]>;
		code: number;
		error: ErrorCode;
	}> = [
		{ name: "no token", connect: async () => ({}), code: CloseCode.Unauthorized, error: ErrorCode.Unauthorized },
		{ name: "a malformed token", connect: async () => ({ token: "garbage" }), code: CloseCode.Unauthorized, error: ErrorCode.Unauthorized },
		{
			name: "an expired token",
			connect: async (room) => ({ token: await mintToken(claimsFor([room], { exp: nowSeconds() - 60 })) }),
			code: CloseCode.Unauthorized,
			error: ErrorCode.Unauthorized,
		},
		{
			name: "a token in the subprotocol signed with another secret",
			connect: async (room) => ({ token: await mintToken(claimsFor([room]), { secret: "nope" }), place: "subprotocol" }),
			code: CloseCode.Unauthorized,
			error: ErrorCode.Unauthorized,
		},
		{
			name: "a token that does not grant the room",
			connect: async () => ({ token: await mintToken(claimsFor(["elsewhere"])) }),
			code: CloseCode.Forbidden,
			error: ErrorCode.Forbidden,
		},
		{
			name: "a foreign Origin",
			connect: async (room) => ({ token: await tokenFor(room), origin: FOREIGN_ORIGIN }),
			code: CloseCode.Forbidden,
			error: ErrorCode.OriginNotAllowed,
		},
		{
			name: "after=-1",
			connect: async (room) => ({ token: await tokenFor(room), after: -1 }),
			code: CloseCode.BadRequest,
			error: ErrorCode.BadRequest,
		},
		{
			name: "after=abc",
			connect: async (room) => ({ token: await tokenFor(room), after: "abc" }),
			code: CloseCode.BadRequest,
			error: ErrorCode.BadRequest,
		},
		{
			name: "after=1.5",
			connect: async (room) => ({ token: await tokenFor(room), after: "1.5" }),
			code: CloseCode.BadRequest,
			error: ErrorCode.BadRequest,
		},
		{
			name: "a region that is not one of BATON_REGIONS",
			connect: async (room) => ({ token: await tokenFor(room), region: "mars" }),
			code: CloseCode.BadRequest,
			error: ErrorCode.BadRequest,
		},
	];

	for (const c of cases) {
		it(`an upgrade with ${c.name} closes ${c.code} {"code":"${c.error}"} as its only event, and no room wakes`, async () => {
			const room = uniqueRoom();
			const socket = await openSocket(room, await c.connect(room));
			expect(socket.response.status).toBe(101);
			await expectRefusal(socket, c.code, { code: c.error });
			expect(await roomExists(room)).toBe(false);
			// The stats call is the room's first construction.
			expect((await stats(room)).wakeups).toBe(1);
		});
	}

	it("(control) an accepted upgrade does construct the room, so roomExists can tell", async () => {
		const room = uniqueRoom();
		const socket = await openSocket(room, { token: await tokenFor(room) });
		await socket.welcome();
		expect(await roomExists(room)).toBe(true);
		socket.close();
	});

	it('an upgrade to a bad room name closes 4400 {"code":"bad_room"} as its only event', async () => {
		const token = await mintToken(claimsFor(["*"]));
		for (const room of ["-bad", "a b", `r${"x".repeat(128)}`]) {
			await expectRefusal(await openSocket(room, { token }), CloseCode.BadRequest, { code: ErrorCode.BadRoom });
		}
	});

	it("a refused upgrade still answers Sec-WebSocket-Protocol: baton.v1 when the client offered it", async () => {
		const room = uniqueRoom();
		const offered = await openSocket(room, { token: "garbage", place: "subprotocol" });
		expect(offered.response.headers.get("Sec-WebSocket-Protocol")).toBe(PROTOCOL);
		await expectRefusal(offered, CloseCode.Unauthorized, { code: ErrorCode.Unauthorized });
	});
});

describe("admin API and unauthenticated routes", () => {
	it("admin routes answer 401 unauthorized for a missing, wrong or non-Bearer admin token", async () => {
		const room = uniqueRoom();
		// Malformed bearer values too ("a b", "é", "!"): hono/bearer-auth would answer 400; §9 says 401.
		for (const token of [null, "wrong-token", `${env.BATON_ADMIN_TOKEN}x`, "", "a b", "\u00e9t\u00e9", "tok!en"]) {
			await expectErrorResponse(await admin(`/rooms/${room}/stats`, { token }), 401, ErrorCode.Unauthorized);
			await expectErrorResponse(await admin(`/rooms/${room}/drain`, { method: "POST", token }), 401, ErrorCode.Unauthorized);
			await expectErrorResponse(await admin(`/rooms/${room}/kick`, { body: { sub: "alice" }, token }), 401, ErrorCode.Unauthorized);
		}
		const basic = await api(`/v1/admin/rooms/${room}/stats`, { headers: { Authorization: `Basic ${env.BATON_ADMIN_TOKEN}` } });
		await expectErrorResponse(basic, 401, ErrorCode.Unauthorized);
		// A user's access token is not an admin token.
		await expectErrorResponse(await admin(`/rooms/${room}/stats`, { token: await tokenFor(room) }), 401, ErrorCode.Unauthorized);
		expect(await roomExists(room)).toBe(false);
	});

	it("the admin token is accepted with any case of the Bearer scheme", async () => {
		const room = uniqueRoom();
		for (const scheme of ["Bearer", "bearer", "BEARER"]) {
			const res = await api(`/v1/admin/rooms/${room}/stats`, { headers: { Authorization: `${scheme} ${env.BATON_ADMIN_TOKEN}` } });
			expect(res.status, scheme).toBe(200);
			await res.body?.cancel();
		}
	});

	it("GET /healthz answers exactly {ok:true, region, version}", async () => {
		const res = await api("/healthz");
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ ok: true, region: "wnam", version: pkg.version });
	});

	it("GET /v1/regions answers exactly {self, regions}", async () => {
		const res = await api("/v1/regions");
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ self: "wnam", regions: ["wnam", "weur", "apac"] });
	});

	it("an unknown route answers 404 with the error body", async () => {
		await expectErrorResponse(await api("/v1/nope"), 404, ErrorCode.NotFound);
	});
});

describe("configuration edges, through the gateway app with other bindings", () => {
	/** The same gateway, fetched directly with `env` changed (readConfig caches per env object). */
	async function gatewayWith(overrides: Partial<Record<string, string | undefined>>, path: string, init: RequestInit = {}): Promise<Response> {
		const app = createGateway();
		const ctx = createExecutionContext();
		const res = await app.fetch(new Request(`http://example.com${path}`, init), { ...env, ...overrides }, ctx);
		await waitOnExecutionContext(ctx);
		return res;
	}

	it("without BATON_JWT_SECRET (and no JWK Set), /healthz answers 503 {ok:false, …, error:server_misconfigured}", async () => {
		const res = await gatewayWith({ BATON_JWT_SECRET: undefined }, "/healthz");
		expect(res.status).toBe(503);
		expect(await res.json()).toEqual({ ok: false, region: "wnam", version: pkg.version, error: ErrorCode.ServerMisconfigured });
	});

	it("without BATON_JWT_SECRET, room routes answer 500 server_misconfigured, ahead of bad_room", async () => {
		const token = await mintToken(claimsFor(["*"]));
		const headers = { Authorization: `Bearer ${token}` };
		await expectErrorResponse(await gatewayWith({ BATON_JWT_SECRET: undefined }, "/v1/rooms/lobby", { headers }), 500, ErrorCode.ServerMisconfigured);
		await expectErrorResponse(await gatewayWith({ BATON_JWT_SECRET: "" }, "/v1/rooms/lobby/messages", { headers }), 500, ErrorCode.ServerMisconfigured);
		await expectErrorResponse(await gatewayWith({ BATON_JWT_SECRET: undefined }, "/v1/rooms/-bad", { headers }), 500, ErrorCode.ServerMisconfigured);
	});

	it("without BATON_JWT_SECRET, an upgrade completes and closes 1011 {code:server_misconfigured}; 426 still comes first", async () => {
		const room = uniqueRoom();
		const res = await gatewayWith({ BATON_JWT_SECRET: undefined }, `/v1/rooms/${room}/ws`, { headers: { Upgrade: "websocket" } });
		expect(res.status).toBe(101);
		const ws = res.webSocket;
		if (ws === null) throw new Error("no webSocket on the 101");
		await expectRefusal(new TestSocket(ws, res, "misconfigured"), CloseCode.InternalError, { code: ErrorCode.ServerMisconfigured });
		expect(await roomExists(room)).toBe(false);
		await expectErrorResponse(await gatewayWith({ BATON_JWT_SECRET: undefined }, `/v1/rooms/${room}/ws`), 426, ErrorCode.UpgradeRequired);
	});

	it("without BATON_ADMIN_TOKEN the admin API answers 404 not_found, whatever the token", async () => {
		const init = { headers: { Authorization: "Bearer test-admin-token" } };
		await expectErrorResponse(await gatewayWith({ BATON_ADMIN_TOKEN: undefined }, "/v1/admin/rooms/lobby/stats", init), 404, ErrorCode.NotFound);
		await expectErrorResponse(
			await gatewayWith({ BATON_ADMIN_TOKEN: undefined }, "/v1/admin/rooms/lobby/drain", { ...init, method: "POST" }),
			404,
			ErrorCode.NotFound,
		);
	});

	it("BATON_ALLOWED_ORIGINS=* admits any Origin", async () => {
		const res = await gatewayWith({ BATON_ALLOWED_ORIGINS: "*" }, "/healthz", { headers: { Origin: FOREIGN_ORIGIN } });
		expect(res.status).toBe(200);
	});
});
