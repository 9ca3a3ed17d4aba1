/**
 * Limits on the HTTP routes of a room (CONTRACT.md §13): a body read with a hard cap, `data`
 * nesting, bans on every route, one publish bucket per (room, sub).
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { MAX_DATA_DEPTH } from "../../protocol/json-depth.ts";
import { expectErrorResponse, gatewayWith, history, httpPublish, LIMITS, muteInfoLogs, tokenFor, uniqueRoom } from "./helpers.ts";

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
