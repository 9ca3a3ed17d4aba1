/**
 * Limits on the HTTP routes of a room (CONTRACT.md §13): a body read with a hard cap, `data`
 * nesting, bans on every route, one publish bucket per (room, sub).
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { MAX_DATA_DEPTH } from "../../protocol/json-depth.ts";
import {
	admin,
	api,
	expectErrorResponse,
	gatewayWith,
	history,
	httpPublish,
	join,
	LIMITS,
	leaveRoom,
	muteInfoLogs,
	type TestSocket,
	tokenFor,
	uniqueRoom,
} from "./helpers.ts";

muteInfoLogs();

const messagesPath = (room: string) => `/v1/rooms/${encodeURIComponent(room)}/messages`;

/** A byte stream of `total` bytes that counts what its reader pulled (BYOB requests answered to their size). */
function countingBody(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
	let pulled = 0;
	const stream = new ReadableStream({
		type: "bytes",
		pull(controller) {
			const request = controller.byobRequest;
			const want = request?.view?.byteLength ?? 65_536;
			const n = Math.min(want, total - pulled);
			if (request?.view) {
				new Uint8Array(request.view.buffer, request.view.byteOffset, n).fill(0x20);
				request.respond(n);
			} else {
				controller.enqueue(new Uint8Array(n).fill(0x20));
			}
			pulled += n;
			if (pulled >= total) controller.close();
		},
	});
	return { stream, pulled: () => pulled };
}

function nested(depth: number): unknown {
	let v: unknown = 1;
	for (let i = 0; i < depth; i++) v = [v];
	return v;
}

describe("finding 7: an HTTP body is read with a hard cap", () => {
	it("a 64 MB body is refused 413 too_large after reading at most MAX_MESSAGE_BYTES + 1 bytes of it", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room);
		const body = countingBody(64 * 1024 * 1024);
		const res = await gatewayWith({}, messagesPath(room), {
			method: "POST",
			headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
			body: body.stream,
		});
		await expectErrorResponse(res, 413, ErrorCode.TooLarge);
		expect(body.pulled()).toBeGreaterThan(0);
		expect(body.pulled()).toBeLessThanOrEqual(LIMITS.maxMessageBytes + 1);
	});

	it("a Content-Length over the cap is refused before any byte is read", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room);
		const body = countingBody(64 * 1024 * 1024);
		const res = await gatewayWith({}, messagesPath(room), {
			method: "POST",
			headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Content-Length": String(64 * 1024 * 1024) },
			body: body.stream,
		});
		await expectErrorResponse(res, 413, ErrorCode.TooLarge);
		expect(body.pulled()).toBe(0);
	});

	it("a streamed body of exactly MAX_MESSAGE_BYTES is read whole and stored", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room);
		const envelope = JSON.stringify({ id: "fits", data: "" }).length;
		const text = JSON.stringify({ id: "fits", data: "x".repeat(LIMITS.maxMessageBytes - envelope) });
		expect(text.length).toBe(LIMITS.maxMessageBytes);
		const bytes = new TextEncoder().encode(text);
		// Two chunks, so the reader has to join them.
		const stream = new ReadableStream<Uint8Array>({
			start(controller) {
				controller.enqueue(bytes.slice(0, 1000));
				controller.enqueue(bytes.slice(1000));
				controller.close();
			},
		});
		const res = await gatewayWith({}, messagesPath(room), {
			method: "POST",
			headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
			body: stream,
		});
		expect(res.status, await res.clone().text()).toBe(200);
		expect((await history(room, token)).messages.map((m) => m.id)).toEqual(["fits"]);
	});
});

describe("finding 5: data nested deeper than 64 levels is refused over HTTP", () => {
	it(`data ${MAX_DATA_DEPTH} levels deep is stored; ${MAX_DATA_DEPTH + 1} levels answers 400 bad_request and stores nothing`, async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room);
		const ok = await httpPublish(room, token, { id: "deep-ok", data: nested(MAX_DATA_DEPTH) });
		expect(ok.status, await ok.clone().text()).toBe(200);
		await expectErrorResponse(await httpPublish(room, token, { id: "too-deep", data: nested(MAX_DATA_DEPTH + 1) }), 400, ErrorCode.BadRequest);
		// The review's case: ~3,700 levels (7.4 KB) was acked, then broke every history page holding it.
		const review = `{"id":"review","data":${"[".repeat(1800)}${"]".repeat(1800)}}`;
		await expectErrorResponse(
			await gatewayWith({}, messagesPath(room), { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: review }),
			400,
			ErrorCode.BadRequest,
		);
		const page = await history(room, token);
		expect(page.messages.map((m) => m.id)).toEqual(["deep-ok"]);
		expect(page.seq).toBe(1);
	});
});

describe("finding 1: a ban applies to every HTTP route of the room", () => {
	it("a kicked and banned sub gets 403 forbidden on GET /v1/rooms/:room, GET and POST /messages and GET /presence; others do not", async () => {
		const room = uniqueRoom();
		const mallory = await tokenFor(room, "mallory");
		const alice = await tokenFor(room, "alice");
		expect((await httpPublish(room, mallory, { id: "before", data: 1 })).status).toBe(200);
		const kick = await admin(`/rooms/${room}/kick`, { body: { sub: "mallory", banSeconds: 60 } });
		expect(kick.status).toBe(200);
		await expectErrorResponse(await api(`/v1/rooms/${room}`, { token: mallory }), 403, ErrorCode.Forbidden);
		await expectErrorResponse(await api(messagesPath(room), { token: mallory }), 403, ErrorCode.Forbidden);
		await expectErrorResponse(await httpPublish(room, mallory, { id: "after", data: 2 }), 403, ErrorCode.Forbidden);
		await expectErrorResponse(await api(`/v1/rooms/${room}/presence`, { token: mallory }), 403, ErrorCode.Forbidden);
		// Nothing was stored, and another sub is served as before.
		expect((await api(`/v1/rooms/${room}`, { token: alice })).status).toBe(200);
		expect((await api(`/v1/rooms/${room}/presence`, { token: alice })).status).toBe(200);
		expect((await history(room, alice)).messages.map((m) => m.id)).toEqual(["before"]);
		expect((await httpPublish(room, alice, { id: "alice", data: 3 })).status).toBe(200);
	});
});

/** Publishes `n` times over HTTP at once (a one-by-one loop is slow enough to be refilled); the answers. */
function publishStatuses(room: string, token: string, n: number, id: (i: number) => string): Promise<Response[]> {
	return Promise.all(Array.from({ length: n }, (_, i) => httpPublish(room, token, { id: id(i), data: i })));
}

describe("finding 3: HTTP publishes share the (room, sub) bucket", () => {
	it("beyond RATE_LIMIT_BURST an HTTP publish answers 429 rate_limited with Retry-After, and nothing is stored", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room, "writer");
		const started = Date.now();
		const answers = await publishStatuses(room, token, 2 * LIMITS.rateBurst, (i) => `h${i}`);
		const elapsed = Date.now() - started;
		const ok = answers.filter((r) => r.status === 200).length;
		// The bucket refills at RATE_LIMIT_PER_SEC while the loop runs.
		expect(ok).toBeGreaterThanOrEqual(LIMITS.rateBurst);
		expect(ok).toBeLessThanOrEqual(LIMITS.rateBurst + Math.ceil((elapsed * LIMITS.ratePerSec) / 1000) + 1);
		const refused = answers.find((r) => r.status === 429);
		if (refused === undefined) throw new Error("no publish was refused");
		expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
		await expectErrorResponse(refused, 429, ErrorCode.RateLimited);
		expect((await history(room, token, "?limit=500")).messages).toHaveLength(ok);
		// Another sub has a bucket of its own.
		expect((await httpPublish(room, await tokenFor(room, "other"), { id: "o", data: 0 })).status).toBe(200);
	});

	it("a sub that spent its bucket over HTTP is rate limited on its socket too, and a new socket buys no rate", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room, "writer");
		/** Publishes 10 at once on a new socket of the sub; how many were acked. */
		const acksOnNewSocket = async (label: string): Promise<number> => {
			const { socket } = await join(room, "writer");
			const started = Date.now();
			// Spend whatever refilled while the socket connected, over HTTP.
			await publishStatuses(room, token, LIMITS.rateBurst, (i) => `${label}-h${i}`);
			for (let i = 0; i < 10; i++) socket.publish(`${label}${i}`);
			let acks = 0;
			for (let i = 0; i < 10; i++) {
				const e = await socket.next((ev) => ev.kind === "frame" && (ev.frame?.type === "ack" || ev.frame?.type === "error") && ev.frame.id === `${label}${i}`);
				if (e.kind === "frame" && e.frame?.type === "ack") acks++;
			}
			const refill = Math.ceil(((Date.now() - started) * LIMITS.ratePerSec) / 1000) + 1;
			expect(acks, `acks on ${label}`).toBeLessThanOrEqual(Math.min(9, refill));
			await leaveRoom(room, socket);
			return acks;
		};
		await publishStatuses(room, token, 2 * LIMITS.rateBurst, (i) => `h${i}`);
		await acksOnNewSocket("s");
		await acksOnNewSocket("t");
	});

	it("two sockets of one sub share one bucket: together they get one burst, not two", async () => {
		const room = uniqueRoom();
		const a = await join(room, "writer");
		const b = await join(room, "writer");
		const started = Date.now();
		for (let i = 0; i < LIMITS.rateBurst; i++) {
			a.socket.publish(`a${i}`);
			b.socket.publish(`b${i}`);
		}
		const answered = async (socket: TestSocket, prefix: string) => {
			let acks = 0;
			for (let i = 0; i < LIMITS.rateBurst; i++) {
				const e = await socket.next((ev) => ev.kind === "frame" && (ev.frame?.type === "ack" || ev.frame?.type === "error") && ev.frame.id === `${prefix}${i}`);
				if (e.kind === "frame" && e.frame?.type === "ack") acks++;
			}
			return acks;
		};
		const acks = (await answered(a.socket, "a")) + (await answered(b.socket, "b"));
		const elapsed = Date.now() - started;
		expect(acks).toBeGreaterThanOrEqual(LIMITS.rateBurst);
		expect(acks).toBeLessThanOrEqual(LIMITS.rateBurst + Math.ceil((elapsed * LIMITS.ratePerSec) / 1000) + 1);
		await leaveRoom(room, a.socket, b.socket);
	});
});

describe("finding 4: a duplicate publish takes a token like any publish", () => {
	it("re-sending one id over HTTP is answered dup until the bucket is empty, then 429", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room, "writer");
		expect((await httpPublish(room, token, { id: "same", data: 0 })).status).toBe(200);
		const answers = await publishStatuses(room, token, 2 * LIMITS.rateBurst, () => "same");
		expect(answers.filter((r) => r.status === 200).every((r) => r.headers.get("X-Baton-Dup") === "true")).toBe(true);
		expect(answers.some((r) => r.status === 429)).toBe(true);
		expect((await history(room, token)).messages.map((m) => m.id)).toEqual(["same"]);
	});

	it("re-sending one id on a socket is answered dup until the bucket is empty, then rate_limited", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "writer");
		socket.publish("same");
		await socket.ack("same");
		for (let i = 0; i < 2 * LIMITS.rateBurst; i++) socket.publish("same");
		const refused = await socket.error(ErrorCode.RateLimited);
		expect(refused.id).toBe("same");
		await leaveRoom(room, socket);
	});
});
