/**
 * CORS (CONTRACT.md §11, §9): preflights from allowed origins answered 204 with the allowed
 * methods, headers and max age; actual responses (errors included) name the origin and expose
 * X-Baton-Dup and Retry-After; a disallowed origin gets 403 origin_not_allowed, preflight or not;
 * WebSocket upgrades are untouched. The workers project allows https://app.example.
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { CORS_MAX_AGE_SECONDS } from "../../src/gateway/cors.ts";
import { ALLOWED_ORIGIN, api, expectErrorResponse, FOREIGN_ORIGIN, gatewayWith, leaveRoom, muteInfoLogs, openSocket, tokenFor, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

const preflight = (path: string, origin: string, method = "POST") =>
	api(path, {
		method: "OPTIONS",
		origin,
		headers: { "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "authorization, content-type" },
	});

/** Every HTTP route of §3 with a method a browser would use. */
const ROUTES = (room: string) => [
	["GET", "/healthz"],
	["GET", "/v1/regions"],
	["GET", `/v1/rooms/${room}`],
	["GET", `/v1/rooms/${room}/messages`],
	["POST", `/v1/rooms/${room}/messages`],
	["GET", `/v1/rooms/${room}/ws`],
	["POST", `/v1/admin/rooms/${room}/drain`],
	["GET", `/v1/admin/rooms/${room}/stats`],
	["GET", "/v1/nope"],
];

describe("preflight", () => {
	it("every route answers an allowed origin's preflight 204 with the §11 headers", async () => {
		const room = uniqueRoom();
		for (const [method, path] of ROUTES(room)) {
			const res = await preflight(path as string, ALLOWED_ORIGIN, method);
			expect(res.status, `${method} ${path}`).toBe(204);
			expect(await res.text()).toBe("");
			expect(res.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
			expect(res.headers.get("Access-Control-Allow-Methods")).toBe("GET, POST");
			expect(res.headers.get("Access-Control-Allow-Headers")).toBe("Authorization, Content-Type");
			expect(res.headers.get("Access-Control-Max-Age")).toBe(String(CORS_MAX_AGE_SECONDS));
			expect(res.headers.get("Vary")).toMatch(/Origin/);
		}
	});

	it("a disallowed origin's preflight answers 403 origin_not_allowed without CORS headers", async () => {
		const res = await preflight(`/v1/rooms/${uniqueRoom()}/messages`, FOREIGN_ORIGIN);
		expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
		await expectErrorResponse(res, 403, ErrorCode.OriginNotAllowed);
	});

	it("with BATON_ALLOWED_ORIGINS=* any origin's preflight is answered with Allow-Origin *", async () => {
		const res = await gatewayWith({ BATON_ALLOWED_ORIGINS: "*" }, "/v1/rooms/lobby/messages", {
			method: "OPTIONS",
			headers: { Origin: FOREIGN_ORIGIN, "Access-Control-Request-Method": "POST" },
		});
		expect(res.status).toBe(204);
		expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
		expect(res.headers.get("Access-Control-Allow-Methods")).toBe("GET, POST");
	});
});

describe("actual responses", () => {
	it("carry Allow-Origin and Expose-Headers on every route, error answers included", async () => {
		const room = uniqueRoom();
		for (const [method, path] of ROUTES(room)) {
			const res = await api(path as string, { method: method as string, origin: ALLOWED_ORIGIN });
			await res.body?.cancel();
			expect(res.headers.get("Access-Control-Allow-Origin"), `${method} ${path} (${res.status})`).toBe(ALLOWED_ORIGIN);
			expect(res.headers.get("Access-Control-Expose-Headers")).toBe("X-Baton-Dup, Retry-After");
			expect(res.headers.get("Vary")).toMatch(/Origin/);
		}
	});

	it("an HTTP publish from an allowed origin exposes X-Baton-Dup; history reads back the message", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room);
		const publish = () => api(`/v1/rooms/${room}/messages`, { token, origin: ALLOWED_ORIGIN, body: { data: { hi: 1 }, id: "m1" } });
		const first = await publish();
		expect(first.status).toBe(200);
		expect(first.headers.get("X-Baton-Dup")).toBe("false");
		expect(first.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
		const again = await publish();
		expect(await again.json()).toEqual({ seq: 1 });
		expect(again.headers.get("X-Baton-Dup")).toBe("true");
		const page = await api(`/v1/rooms/${room}/messages`, { token, origin: ALLOWED_ORIGIN });
		expect(page.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
		expect(((await page.json()) as { messages: unknown[] }).messages).toHaveLength(1);
	});

	it("a disallowed origin still gets 403 origin_not_allowed, without Allow-Origin", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room);
		for (const path of [`/v1/rooms/${room}`, `/v1/rooms/${room}/messages`, "/healthz"]) {
			const res = await api(path, { token, origin: FOREIGN_ORIGIN });
			expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
			await expectErrorResponse(res, 403, ErrorCode.OriginNotAllowed);
		}
		const post = await api(`/v1/rooms/${room}/messages`, { token, origin: FOREIGN_ORIGIN, body: { data: 1 } });
		await expectErrorResponse(post, 403, ErrorCode.OriginNotAllowed);
	});

	it("a request without Origin gets no Allow-Origin for an allow-list (non-browser clients)", async () => {
		const res = await api("/healthz");
		expect(res.status).toBe(200);
		expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
	});

	it("a WebSocket upgrade from an allowed origin is welcomed, its 101 untouched by CORS", async () => {
		const room = uniqueRoom();
		const socket = await openSocket(room, { token: await tokenFor(room), origin: ALLOWED_ORIGIN });
		expect(socket.response.status).toBe(101);
		expect(socket.response.headers.get("Access-Control-Allow-Origin")).toBeNull();
		await socket.welcome();
		await leaveRoom(room, socket);
	});
});
