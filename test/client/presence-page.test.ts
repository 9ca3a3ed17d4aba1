import { describe, expect, it } from "vitest";
import type { FetchLike, ResponseLike } from "../../client/index.ts";
import { fakeJwt, startOpen, useFakes } from "./harness.ts";

useFakes();

/**
 * A room's presence route over a sorted list of subs, answering `cursor`/`limit` the way
 * `GET /v1/rooms/:room/presence` does (the cursor is opaque to the SDK: here, the last sub); every
 * request is recorded.
 */
class FakePresenceRoute {
	readonly requests: { url: URL; authorization: string | undefined }[] = [];
	refuseNext: { status: number; body: unknown }[] = [];

	constructor(readonly subs: string[]) {}

	readonly fetch: FetchLike = async (url, init) => {
		const parsed = new URL(url);
		this.requests.push({ url: parsed, authorization: init.headers.Authorization });
		const refusal = this.refuseNext.shift();
		if (refusal !== undefined) return response(refusal.status, refusal.body);
		const cursor = parsed.searchParams.get("cursor");
		const limit = Number(parsed.searchParams.get("limit") ?? "100");
		const rest = this.subs.filter((s) => cursor === null || s > cursor);
		const page = rest.slice(0, limit);
		const next = rest.length > limit ? (page.at(-1) ?? null) : null;
		return response(200, { presence: page.map((sub) => ({ sub, name: sub.toUpperCase() })), count: this.subs.length, next });
	};
}

function response(status: number, body: unknown): ResponseLike {
	return { ok: status >= 200 && status < 300, status, json: async () => body };
}

describe("room.presencePage()", () => {
	it("pages through everyone present with cursor and limit, on the room's presence route with the connection's token", async () => {
		const route = new FakePresenceRoute(["a", "b", "c", "d", "e"]);
		const { room } = await startOpen({ fetch: route.fetch, url: "wss://rooms.example/base/" });
		const first = await room.presencePage({ limit: 2 });
		expect(first).toEqual({
			presence: [
				{ sub: "a", name: "A" },
				{ sub: "b", name: "B" },
			],
			count: 5,
			next: "b",
		});
		const second = await room.presencePage({ cursor: first.next ?? "", limit: 2 });
		expect(second.presence.map((p) => p.sub)).toEqual(["c", "d"]);
		const last = await room.presencePage({ cursor: second.next ?? "", limit: 2 });
		expect(last).toEqual({ presence: [{ sub: "e", name: "E" }], count: 5, next: null });
		const url = route.requests[0]?.url;
		expect(`${url?.origin}${url?.pathname}`).toBe("https://rooms.example/base/v1/rooms/lobby/presence");
		expect(route.requests.map((r) => r.url.search)).toEqual(["?limit=2", "?cursor=b&limit=2", "?cursor=d&limit=2"]);
		expect(route.requests[0]?.authorization).toBe("Bearer token-1");
	});

	it("asks for 100 by default", async () => {
		const route = new FakePresenceRoute(["a"]);
		const { room } = await startOpen({ fetch: route.fetch });
		await room.presencePage();
		expect(route.requests[0]?.url.searchParams.get("limit")).toBe("100");
	});

	it("refuses out-of-range options with bad_request and sends nothing", async () => {
		const route = new FakePresenceRoute(["a"]);
		const { room } = await startOpen({ fetch: route.fetch });
		for (const options of [{ limit: 0 }, { limit: 1001 }, { limit: 2.5 }, { cursor: "" }]) {
			await expect(room.presencePage(options)).rejects.toMatchObject({ name: "BatonError", code: "bad_request" });
		}
		expect(route.requests).toEqual([]);
	});

	it("rejects with the route's error code and status, and a malformed answer as internal", async () => {
		const route = new FakePresenceRoute(["a"]);
		route.refuseNext.push({ status: 400, body: { error: { code: "bad_request", message: "cursor must be the next of an earlier page" } } });
		route.refuseNext.push({ status: 200, body: { presence: [{ sub: 1 }], count: 1, next: null } });
		const { room } = await startOpen({ fetch: route.fetch });
		await expect(room.presencePage({ cursor: "zz" })).rejects.toMatchObject({ code: "bad_request", status: 400 });
		await expect(room.presencePage()).rejects.toMatchObject({ code: "internal", status: 200 });
	});

	it("retries a 401 once with a fresh token from the token function", async () => {
		const route = new FakePresenceRoute(["a", "b"]);
		const tokens = [fakeJwt({ sub: "u", n: 1 }), fakeJwt({ sub: "u", n: 2 })];
		let calls = 0;
		const { room } = await startOpen({ fetch: route.fetch, token: () => tokens[calls++] ?? "spent" });
		route.refuseNext.push({ status: 401, body: { error: { code: "unauthorized", message: "expired" } } });
		expect((await room.presencePage()).count).toBe(2);
		expect(route.requests.map((r) => r.authorization)).toEqual([`Bearer ${tokens[0]}`, `Bearer ${tokens[1]}`]);
	});
});
