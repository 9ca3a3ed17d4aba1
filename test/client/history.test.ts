import { describe, expect, it } from "vitest";
import type { FetchLike, ResponseLike } from "../../client/index.ts";
import { fakeJwt, startOpen, useFakes } from "./harness.ts";

useFakes();

/**
 * A room's history route over a log holding seqs oldest..head, answering `after`/`limit` the way
 * `GET /v1/rooms/:room/messages` does; every request is recorded.
 */
class FakeHistoryRoute {
	readonly requests: { url: URL; authorization: string | undefined }[] = [];
	/** Status and body to answer the next request with instead of a page. */
	refuseNext: { status: number; body: unknown }[] = [];

	constructor(
		public head: number,
		public oldest: number,
	) {}

	readonly fetch: FetchLike = async (url, init) => {
		const parsed = new URL(url);
		this.requests.push({ url: parsed, authorization: init.headers.Authorization });
		const refusal = this.refuseNext.shift();
		if (refusal !== undefined) return response(refusal.status, refusal.body);
		const after = Number(parsed.searchParams.get("after") ?? "0");
		const limit = Math.min(Number(parsed.searchParams.get("limit") ?? "100"), 500);
		const messages = [];
		for (let seq = Math.max(after + 1, this.oldest); seq <= this.head && messages.length < limit; seq++) {
			messages.push({ type: "message", seq, id: `id-${seq}`, from: "alice", data: { n: seq }, ts: 1_700_000_000_000 + seq });
		}
		return response(200, { messages, seq: this.head, oldest: this.head === 0 ? null : this.oldest });
	};

	/** The `after`/`limit` of each request. */
	get asked(): string[] {
		return this.requests.map((r) => `${r.url.searchParams.get("after")}/${r.url.searchParams.get("limit")}`);
	}
}

function response(status: number, body: unknown): ResponseLike {
	return { ok: status >= 200 && status < 300, status, json: async () => body };
}

const seqsOf = (page: { messages: { seq: number }[] }) => page.messages.map((m) => m.seq);

describe("room.history()", () => {
	it("pages back from the newest to the oldest kept message with before, with hasMore on each page but the last", async () => {
		const route = new FakeHistoryRoute(12, 3);
		const { room } = await startOpen({ fetch: route.fetch, url: "ws://127.0.0.1:8787/base/" }, { seq: 12 });
		const newest = await room.history({ limit: 4 });
		expect(seqsOf(newest)).toEqual([9, 10, 11, 12]);
		expect(newest).toMatchObject({ seq: 12, oldest: 3, hasMore: true });
		const older = await room.history({ before: 9, limit: 4 });
		expect(seqsOf(older)).toEqual([5, 6, 7, 8]);
		expect(older.hasMore).toBe(true);
		const oldest = await room.history({ before: 5, limit: 4 });
		// Seqs 1–2 were trimmed: the page is short and the end is reached.
		expect(seqsOf(oldest)).toEqual([3, 4]);
		expect(oldest.hasMore).toBe(false);
		// before = B, limit = L → after = max(0, B - 1 - L).
		expect(route.asked).toEqual(["8/4", "4/4", "0/4"]);
		const first = route.requests[0];
		expect(first?.url.origin + (first?.url.pathname ?? "")).toBe("http://127.0.0.1:8787/base/v1/rooms/lobby/messages");
		expect(first?.authorization).toBe("Bearer token-1");
	});

	it("trims a page near the start of the log to seqs below before", async () => {
		const route = new FakeHistoryRoute(10, 1);
		const { room } = await startOpen({ fetch: route.fetch });
		const page = await room.history({ before: 3, limit: 5 });
		expect(seqsOf(page)).toEqual([1, 2]);
		expect(page.hasMore).toBe(false);
		expect(route.asked).toEqual(["0/5"]);
	});

	it("reads the newest page in two requests when the room is ahead of what the connection has seen", async () => {
		const route = new FakeHistoryRoute(300, 1);
		const { room } = await startOpen({ fetch: route.fetch }, { seq: 0 });
		const page = await room.history({ limit: 50 });
		expect(seqsOf(page)).toEqual(Array.from({ length: 50 }, (_, i) => 251 + i));
		expect(route.asked).toEqual(["0/50", "250/50"]);
	});

	it("pages forward with after, hasMore while newer messages remain", async () => {
		const route = new FakeHistoryRoute(7, 1);
		const { room } = await startOpen({ fetch: route.fetch });
		const page = await room.history({ after: 2, limit: 3 });
		expect(seqsOf(page)).toEqual([3, 4, 5]);
		expect(page.hasMore).toBe(true);
		const last = await room.history({ after: 5, limit: 3 });
		expect(seqsOf(last)).toEqual([6, 7]);
		expect(last.hasMore).toBe(false);
	});

	it("returns an empty page for an empty room", async () => {
		const route = new FakeHistoryRoute(0, 1);
		const { room } = await startOpen({ fetch: route.fetch });
		await expect(room.history()).resolves.toEqual({ messages: [], seq: 0, oldest: null, hasMore: false });
		expect(route.asked).toEqual(["0/100"]);
	});

	it("refuses out-of-range options with bad_request and sends nothing", async () => {
		const route = new FakeHistoryRoute(5, 1);
		const { room } = await startOpen({ fetch: route.fetch });
		for (const options of [{ limit: 0 }, { limit: 501 }, { limit: 1.5 }, { before: 0 }, { after: -1 }]) {
			await expect(room.history(options)).rejects.toMatchObject({ name: "BatonError", code: "bad_request" });
		}
		expect(route.requests).toEqual([]);
	});

	it("rejects with the route's error code and status", async () => {
		const route = new FakeHistoryRoute(5, 1);
		route.refuseNext.push({ status: 403, body: { error: { code: "forbidden", message: "room not in claims" } } });
		const { room } = await startOpen({ fetch: route.fetch });
		await expect(room.history()).rejects.toMatchObject({ code: "forbidden", status: 403, message: "room not in claims" });
	});

	it("retries a 401 once with a fresh token from the token function", async () => {
		const route = new FakeHistoryRoute(5, 1);
		const tokens = [fakeJwt({ sub: "u", n: 1 }), fakeJwt({ sub: "u", n: 2 })];
		let calls = 0;
		const { room } = await startOpen({ fetch: route.fetch, token: () => tokens[calls++] ?? "spent" }, { seq: 5 });
		route.refuseNext.push({ status: 401, body: { error: { code: "unauthorized", message: "expired" } } });
		const page = await room.history({ limit: 2 });
		expect(seqsOf(page)).toEqual([4, 5]);
		expect(route.requests.map((r) => r.authorization)).toEqual([`Bearer ${tokens[0]}`, `Bearer ${tokens[1]}`]);
	});

	it("does not retry a 401 with a string token", async () => {
		const route = new FakeHistoryRoute(5, 1);
		route.refuseNext.push({ status: 401, body: { error: { code: "unauthorized", message: "expired" } } });
		const { room } = await startOpen({ fetch: route.fetch });
		await expect(room.history()).rejects.toMatchObject({ code: "unauthorized", status: 401 });
		expect(route.requests).toHaveLength(1);
	});

	it("reports a request that got no answer as network_error, and an aborted one as aborted", async () => {
		const failing: FetchLike = async (_url, init) => {
			if (init.signal?.aborted) throw new Error("The operation was aborted");
			throw new TypeError("fetch failed");
		};
		const { room } = await startOpen({ fetch: failing });
		await expect(room.history()).rejects.toMatchObject({ code: "network_error" });
		await expect(room.history({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "aborted" });
	});

	it("rejects a malformed answer instead of passing it on", async () => {
		const bad: FetchLike = async () => response(200, { messages: [{ type: "message", seq: "1" }], seq: 1, oldest: 1 });
		const { room } = await startOpen({ fetch: bad });
		await expect(room.history()).rejects.toMatchObject({ code: "internal" });
	});
});
