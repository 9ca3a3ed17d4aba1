/**
 * Bad input on a socket (CONTRACT.md §5, §6, §7, §9): each kind gets its exact error frame or
 * close code, and none of it touches another connection in the room or the stored messages.
 */
import { describe, expect, it } from "vitest";
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { AppErrorFrame, ErrorFrame } from "../../protocol/messages.ts";
import { history, join, LIMITS, leaveRoom, muteInfoLogs, type SocketEvent, type TestSocket, tokenFor, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

/**
 * A room with an observer that has published one message: after the bad input, the observer must
 * still publish and receive, and history must hold exactly `stored` messages, gapless from 1.
 */
async function roomWithObserver(): Promise<{ room: string; observer: TestSocket; check: (stored: number) => Promise<void> }> {
	const room = uniqueRoom();
	const { socket: observer } = await join(room, "observer");
	observer.publish("o-before");
	await observer.ack("o-before");
	const check = async (stored: number) => {
		expect(observer.closeEvent, `observer closed; saw:\n${observer.transcript()}`).toBeUndefined();
		observer.publish("o-after");
		const ack = await observer.ack("o-after");
		expect(ack.seq).toBe(stored + 1);
		await observer.message(stored + 1);
		const page = await history(room, await tokenFor(room), "?limit=500");
		expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: stored + 1 }, (_, i) => i + 1));
		observer.close();
	};
	return { room, observer, check };
}

const isAnswerTo = (id: string) => (e: SocketEvent) =>
	e.kind === "frame" && (e.frame?.type === "ack" || e.frame?.type === "error") && "id" in (e.frame ?? {}) && (e.frame as { id?: string }).id === id;

describe("frames that close the socket", () => {
	it("a binary frame closes with 1003", async () => {
		const { room, check } = await roomWithObserver();
		const { socket } = await join(room, "alice");
		socket.send(new Uint8Array([1, 2, 3]));
		expect((await socket.closed()).code).toBe(CloseCode.UnsupportedData);
		await check(1);
	});

	it("a frame over MAX_MESSAGE_BYTES closes with 1009; one of exactly MAX_MESSAGE_BYTES is accepted", async () => {
		const { room, check } = await roomWithObserver();
		const { socket } = await join(room, "alice");
		const envelope = JSON.stringify({ type: "publish", id: "fits", data: "" }).length;
		const fits = JSON.stringify({ type: "publish", id: "fits", data: "x".repeat(LIMITS.maxMessageBytes - envelope) });
		expect(fits.length).toBe(LIMITS.maxMessageBytes);
		socket.send(fits);
		expect((await socket.ack("fits")).dup).toBe(false);
		socket.send(JSON.stringify({ type: "publish", id: "over", data: "x".repeat(LIMITS.maxMessageBytes - envelope + 1) }));
		expect((await socket.closed()).code).toBe(CloseCode.MessageTooBig);
		expect(socket.frames().some((f) => f.type === "ack" && f.id === "over")).toBe(false);
		await check(2);
	});

	it("the size limit counts UTF-8 bytes, not characters", async () => {
		const { room, check } = await roomWithObserver();
		const { socket } = await join(room, "alice");
		// About 2,100 characters, but over 4,096 bytes.
		const text = JSON.stringify({ type: "publish", id: "wide", data: "é".repeat(LIMITS.maxMessageBytes / 2 + 10) });
		expect(text.length).toBeLessThan(LIMITS.maxMessageBytes);
		socket.send(text);
		expect((await socket.closed()).code).toBe(CloseCode.MessageTooBig);
		await check(1);
	});
});

describe("malformed frames get a bad_message error frame", () => {
	const cases: Array<{ name: string; frame: string; id?: string }> = [
		{ name: "text that is not JSON", frame: "hello" },
		{ name: "JSON that is not an object", frame: "[1,2,3]" },
		{ name: "a JSON string", frame: '"publish"' },
		{ name: "an unknown type (id echoed)", frame: JSON.stringify({ type: "nope", id: "u1" }), id: "u1" },
		{ name: "no type at all (id echoed)", frame: JSON.stringify({ id: "t1", data: 1 }), id: "t1" },
		{ name: "a publish without id", frame: JSON.stringify({ type: "publish", data: 1 }) },
		{ name: "a publish with an empty id", frame: JSON.stringify({ type: "publish", id: "", data: 1 }) },
		{ name: "a publish with a 65-character id", frame: JSON.stringify({ type: "publish", id: "i".repeat(65), data: 1 }) },
		{ name: "a publish with a numeric id", frame: JSON.stringify({ type: "publish", id: 12, data: 1 }) },
		{ name: "a publish without data (id echoed)", frame: JSON.stringify({ type: "publish", id: "d1" }), id: "d1" },
		{ name: "an auth frame without a token", frame: JSON.stringify({ type: "auth" }) },
	];

	for (const c of cases) {
		it(`${c.name} is answered with one error frame bad_message${c.id ? " carrying the id" : " without id"}`, async () => {
			const { room, check } = await roomWithObserver();
			const { socket } = await join(room, "alice");
			socket.send(c.frame);
			const event = await socket.next((e) => e.kind === "frame" && e.frame?.type === "error", { what: "error frame" });
			const json = event.kind === "frame" ? (event.json as Record<string, unknown>) : {};
			const expected: Record<string, unknown> = { type: "error", code: ErrorCode.BadMessage, message: expect.any(String) };
			if (c.id !== undefined) expected.id = c.id;
			expect(json).toEqual(expected);
			// The connection carries on.
			socket.publish("ok");
			expect((await socket.ack("ok")).seq).toBe(2);
			expect(socket.frames().filter((f) => f.type === "error")).toHaveLength(1);
			socket.close();
			await check(2);
		});
	}

	it("a 64-character id is valid", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		const id = "i".repeat(64);
		socket.publish(id);
		expect((await socket.ack(id)).dup).toBe(false);
		socket.close();
	});
});

describe("repeated protocol errors", () => {
	it("nine protocol errors get nine error frames; the 10th within 60 s closes with 1008", async () => {
		const { room, check } = await roomWithObserver();
		const { socket } = await join(room, "alice");
		const other = await join(room, "alice");
		for (let i = 0; i < 9; i++) socket.send(`bad ${i}`);
		for (let i = 0; i < 9; i++) await socket.error(ErrorCode.BadMessage);
		expect(socket.closeEvent).toBeUndefined();
		socket.send("bad 10");
		expect((await socket.closed()).code).toBe(CloseCode.PolicyViolation);
		expect(socket.frames().filter((f) => f.type === "error")).toHaveLength(9);
		// Another connection of the same sub is not affected.
		other.socket.publish("same-sub");
		expect((await other.socket.ack("same-sub")).seq).toBe(2);
		other.socket.close();
		await check(2);
	});

	it("protocol errors are counted per connection", async () => {
		const room = uniqueRoom();
		const a = await join(room, "alice");
		const b = await join(room, "alice");
		for (let i = 0; i < 9; i++) {
			a.socket.send("bad");
			b.socket.send("bad");
		}
		for (let i = 0; i < 9; i++) {
			await a.socket.error(ErrorCode.BadMessage);
			await b.socket.error(ErrorCode.BadMessage);
		}
		expect(a.socket.closeEvent).toBeUndefined();
		expect(b.socket.closeEvent).toBeUndefined();
		a.socket.close();
		b.socket.close();
	});
});

describe("publish rate limit", () => {
	it(`a burst beyond RATE_LIMIT_BURST gets rate_limited error frames carrying the id, each publish answered once, and these are no protocol errors`, async () => {
		const { room, check } = await roomWithObserver();
		const { socket } = await join(room, "alice");
		// Well past the burst even while tokens refill at RATE_LIMIT_PER_SEC during the send.
		const sent = 3 * LIMITS.rateBurst;
		const ids = Array.from({ length: sent }, (_, i) => `r${i}`);
		for (const id of ids) socket.publish(id);
		const answers = new Map<string, "ack" | ErrorFrame | AppErrorFrame>();
		for (const id of ids) {
			const e = await socket.next(isAnswerTo(id), { what: `answer to ${id}` });
			if (e.kind === "frame" && e.frame?.type === "ack") answers.set(id, "ack");
			else if (e.kind === "frame" && e.frame?.type === "error") answers.set(id, e.frame);
		}
		const acked = [...answers.values()].filter((a) => a === "ack").length;
		const refused = [...answers.values()].filter((a): a is ErrorFrame | AppErrorFrame => a !== "ack");
		expect(acked).toBeGreaterThanOrEqual(LIMITS.rateBurst);
		expect(refused.length).toBeGreaterThan(0);
		expect(acked + refused.length).toBe(sent);
		for (const r of refused) expect(r).toEqual({ type: "error", code: ErrorCode.RateLimited, message: expect.any(String), id: r.id });
		// Exactly one answer per publish: no id answered twice.
		const answerFrames = socket.frames().filter((f) => f.type === "ack" || (f.type === "error" && f.id !== undefined));
		expect(answerFrames).toHaveLength(sent);
		// More than ten refusals, yet no 1008: rate_limited refusals are not protocol errors.
		expect(refused.length).toBeGreaterThanOrEqual(10);
		expect(socket.closeEvent).toBeUndefined();
		socket.close();
		await check(1 + acked);
	});

	it(`more than 2 × RATE_LIMIT_BURST refusals within 10 s close with 4009`, { timeout: 15_000 }, async () => {
		const { room, check } = await roomWithObserver();
		const { socket } = await join(room, "alice");
		// Enough that 2 × burst refusals are reached even while tokens refill at RATE_LIMIT_PER_SEC.
		for (let i = 0; i < 8 * LIMITS.rateBurst; i++) socket.publish(`f${i}`);
		expect((await socket.closed({ timeoutMs: 10_000 })).code).toBe(CloseCode.RateLimited);
		const errors = socket.frames().filter((f): f is ErrorFrame => f.type === "error");
		expect(errors).toHaveLength(2 * LIMITS.rateBurst);
		expect(errors.every((e) => e.code === ErrorCode.RateLimited && e.id !== undefined)).toBe(true);
		const acked = socket.frames().filter((f) => f.type === "ack").length;
		expect(acked).toBeGreaterThanOrEqual(LIMITS.rateBurst);
		await check(1 + acked);
	});

	it("the bucket is the (room, sub)'s (CONTRACT.md §13): a throttled sub is throttled on its other connection too, another sub is not", async () => {
		const room = uniqueRoom();
		const a = await join(room, "alice");
		const b = await join(room, "alice");
		const c = await join(room, "bob");
		const started = Date.now();
		for (let i = 0; i < LIMITS.rateBurst + 5; i++) a.socket.publish(`a${i}`);
		await a.socket.error(ErrorCode.RateLimited);
		for (let i = 0; i < 10; i++) b.socket.publish(`b${i}`);
		let acks = 0;
		for (let i = 0; i < 10; i++) {
			const e = await b.socket.next((ev) => ev.kind === "frame" && (ev.frame?.type === "ack" || ev.frame?.type === "error") && ev.frame.id === `b${i}`);
			if (e.kind === "frame" && e.frame?.type === "ack") acks++;
		}
		// Only what refilled since the burst was spent (a's later publishes wait behind its refused one).
		expect(acks).toBeLessThanOrEqual(Math.min(9, Math.ceil(((Date.now() - started) * LIMITS.ratePerSec) / 1000) + 1));
		c.socket.publish("c0");
		expect((await c.socket.ack("c0")).dup).toBe(false);
		await leaveRoom(room, a.socket, b.socket, c.socket);
	});
});
