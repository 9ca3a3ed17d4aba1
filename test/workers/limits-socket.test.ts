/**
 * Limits on sockets (CONTRACT.md §13): `data` nesting, any valid `sub`, connections per sub, the
 * allowances of `auth` and `read` frames, and slow consumers (4013) per connection and room-wide.
 */
import { describe, expect, it } from "vitest";
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { MAX_DATA_DEPTH } from "../../protocol/json-depth.ts";
import {
	admin,
	expectRefusal,
	history,
	join,
	LIMITS,
	leaveRoom,
	mintToken,
	muteInfoLogs,
	nowSeconds,
	openSocket,
	stats,
	type TestSocket,
	tokenFor,
	uniqueRoom,
} from "./helpers.ts";

muteInfoLogs();

function nested(depth: number): unknown {
	let v: unknown = "leaf";
	for (let i = 0; i < depth; i++) v = { k: v };
	return v;
}

/** Sends `ping` and waits for its `pong`: every frame sent before it has been handled by then. */
async function roundTrip(socket: TestSocket): Promise<void> {
	socket.send("ping");
	await socket.next((e) => e.kind === "frame" && e.text === "pong", { what: "pong" });
}

/** The frame types `socket` received after event `from`, pongs left out. */
function framesAfter(socket: TestSocket, from: number): string[] {
	return socket.events.slice(from).flatMap((e) => (e.kind === "frame" && e.text !== "pong" ? [e.frame?.type ?? e.text] : []));
}

describe("finding 5: data nested deeper than 64 levels is refused on a socket", () => {
	it(`${MAX_DATA_DEPTH} levels are acked; ${MAX_DATA_DEPTH + 1} get bad_message with the id, and nothing is stored or broadcast`, async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		const observer = await join(room, "bob");
		socket.publish("ok", nested(MAX_DATA_DEPTH));
		expect((await socket.ack("ok")).seq).toBe(1);
		socket.publish("deep", nested(MAX_DATA_DEPTH + 1));
		const refused = await socket.error(ErrorCode.BadMessage);
		expect(refused.id).toBe("deep");
		socket.publish("after", 1);
		expect((await socket.ack("after")).seq).toBe(2);
		await observer.socket.message(2);
		expect(observer.socket.frames().filter((f) => f.type === "message")).toHaveLength(2);
		expect((await history(room, await tokenFor(room))).messages.map((m) => m.id)).toEqual(["ok", "after"]);
		await leaveRoom(room, socket, observer.socket);
	});
});

describe("finding 8: any valid sub can connect", () => {
	it("a sub of 128 CJK characters (384 UTF-8 bytes) connects, publishes, is present, counts per sub and can be kicked", async () => {
		const room = uniqueRoom();
		const sub = "漢".repeat(128);
		const first = await join(room, sub);
		expect(first.welcome.presence).toEqual([{ sub, name: sub }]);
		first.socket.publish("hi");
		expect((await first.socket.message(1)).from).toBe(sub);
		const second = await join(room, sub);
		expect((await stats(room)).connections).toBe(2);
		const kick = await admin(`/rooms/${room}/kick`, { body: { sub } });
		expect(await kick.json()).toEqual({ closed: 2 });
		expect((await first.socket.closed()).code).toBe(CloseCode.Forbidden);
		expect((await second.socket.closed()).code).toBe(CloseCode.Forbidden);
	});

	it("so does a sub of 128 astral characters (512 UTF-8 bytes), beside a short one", async () => {
		const room = uniqueRoom();
		const sub = "😀".repeat(128);
		const long = await join(room, sub);
		const short = await join(room, "bob");
		expect(long.welcome.presence.map((p) => p.sub)).toEqual([sub]);
		expect(short.welcome.presence.map((p) => p.sub)).toEqual([sub, "bob"]);
		await long.socket.presence("join", "bob");
		short.socket.publish("to-long");
		expect((await long.socket.message(1)).from).toBe("bob");
		await leaveRoom(room, long.socket, short.socket);
	});
});

describe("finding 11: MAX_CONNECTIONS_PER_SUB live connections of one sub per room", () => {
	it("beyond it an upgrade closes 1013 {code:too_many_connections, retryIn}; another sub and a resume of its own session still connect", async () => {
		const room = uniqueRoom();
		const held: TestSocket[] = [];
		const first = await join(room, "alice");
		held.push(first.socket);
		for (let i = 1; i < LIMITS.maxConnectionsPerSub; i++) held.push((await join(room, "alice")).socket);
		const refused = await openSocket(room, { token: await tokenFor(room, "alice") });
		const closed = await refused.closed();
		expect(refused.events).toHaveLength(1);
		expect(closed.code).toBe(CloseCode.TryAgainLater);
		const reason = JSON.parse(closed.reason) as { code: string; retryIn: number };
		expect(reason).toEqual({ code: ErrorCode.TooManyConnections, retryIn: expect.any(Number) });
		expect(reason.retryIn).toBeGreaterThan(0);
		// Another sub is not affected.
		const bob = await join(room, "bob");
		// A resume replacing one of alice's own sessions does not count twice.
		const resumed = await join(room, "alice", { resume: first.welcome.resume });
		expect(resumed.welcome.resumed).toBe(true);
		expect((await first.socket.closed()).code).toBe(CloseCode.SessionReplaced);
		await leaveRoom(room, ...held, bob.socket, resumed.socket);
	});

	it("room_full wins over too_many_connections (§9 order)", async () => {
		const room = uniqueRoom();
		const held: TestSocket[] = [];
		for (let i = 0; i < LIMITS.maxConnectionsPerSub; i++) held.push((await join(room, "alice")).socket);
		for (let i = held.length; i < LIMITS.maxConnections; i++) held.push((await join(room, `other-${i}`)).socket);
		const refused = await openSocket(room, { token: await tokenFor(room, "alice") });
		await expectRefusal(refused, CloseCode.TryAgainLater, { code: ErrorCode.RoomFull, retryIn: expect.any(Number) });
		await leaveRoom(room, ...held);
	});
});

describe("auth frames: more than 6 within 60 s, and every refused one, count as protocol errors", () => {
	it("valid auth frames beyond the 6th are still answered, and the 10th beyond closes 1008", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		const token = await mintToken({ sub: "alice", rooms: [room], exp: nowSeconds() + 7200 });
		for (let i = 0; i < 6 + 9; i++) {
			socket.send({ type: "auth", token });
			await socket.nextFrame("auth_ok");
		}
		expect(socket.closeEvent).toBeUndefined();
		socket.send({ type: "auth", token });
		const closed = await socket.closed();
		expect(closed.code).toBe(CloseCode.PolicyViolation);
	});

	it("ten refused auth frames close 1008, each answered unauthorized first", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		const other = await mintToken({ sub: "mallory", rooms: [room], exp: nowSeconds() + 3600 });
		for (let i = 0; i < 9; i++) {
			socket.send({ type: "auth", token: other });
			await socket.error(ErrorCode.Unauthorized);
		}
		expect(socket.closeEvent).toBeUndefined();
		socket.send({ type: "auth", token: other });
		expect((await socket.closed()).code).toBe(CloseCode.PolicyViolation);
	});
});

describe("read frames: never answered; more than 20 within 1 s, or a seq above what was sent, are protocol errors", () => {
	it("a read is never answered, and a read of what was received keeps the connection", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		socket.publish("m");
		await socket.message(1);
		await socket.ack("m");
		const from = socket.events.length;
		for (let i = 0; i < 5; i++) socket.send({ type: "read", seq: 1 });
		await roundTrip(socket);
		expect(framesAfter(socket, from)).toEqual([]);
		await leaveRoom(room, socket);
	});

	it("reads beyond 20 within a second count: 20 + 10 in a burst close 1008", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		for (let i = 0; i < 20 + 9; i++) socket.send({ type: "read", seq: 0 });
		await roundTrip(socket);
		expect(socket.closeEvent).toBeUndefined();
		socket.send({ type: "read", seq: 0 });
		expect((await socket.closed()).code).toBe(CloseCode.PolicyViolation);
	});

	it("a read above the head is a protocol error: ten of them close 1008", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		for (let i = 0; i < 9; i++) {
			socket.send({ type: "read", seq: 5 });
			await roundTrip(socket);
		}
		expect(socket.closeEvent).toBeUndefined();
		socket.send({ type: "read", seq: 5 });
		expect((await socket.closed()).code).toBe(CloseCode.PolicyViolation);
	});

	it("a malformed read is bad_message", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		socket.send({ type: "read", seq: -1 });
		await socket.error(ErrorCode.BadMessage);
		await leaveRoom(room, socket);
	});
});

/** A data string of `bytes` ASCII characters. */
const payload = (bytes: number) => "x".repeat(bytes);

/** Data size of the test messages: their frames stay within MAX_MESSAGE_BYTES. */
const SIZE = 3900;

/**
 * Makes `socket` acknowledge what it receives the way a client should: a `read` now and then (every
 * fourth message here), not one per message — more than 20 in a second would be protocol errors.
 */
function readsEveryFourth(socket: TestSocket): void {
	socket.ws.addEventListener("message", (e) => {
		if (typeof e.data !== "string") return;
		const f = JSON.parse(e.data) as { type?: string; seq?: number };
		if (f.type === "message" && (f.seq ?? 0) % 4 === 0) socket.send({ type: "read", seq: f.seq });
	});
}

/** Publishes from `publisher` until `until` holds or `max` messages; the text of every frame sent. */
async function publishUntil(publisher: TestSocket, prefix: string, size: number, until: () => boolean, max = 200): Promise<number> {
	let n = 0;
	while (!until() && n < max) {
		publisher.publish(`${prefix}${n}`, payload(size));
		await publisher.ack(`${prefix}${n}`);
		n++;
	}
	return n;
}

/** Bytes of the message frames `socket` received with seq > `after`. */
function messageBytes(socket: TestSocket, after: number): number {
	let bytes = 0;
	for (const e of socket.events) if (e.kind === "frame" && e.frame?.type === "message" && e.frame.seq > after) bytes += new TextEncoder().encode(e.text).length;
	return bytes;
}

describe("finding 6: slow consumers are closed 4013", () => {
	it("a connection that never reads is closed 4013 {code:slow_consumer} once it is SEND_BUFFER_MAX_BYTES behind; one that reads stays", async () => {
		const room = uniqueRoom();
		const slow = await join(room, "slow");
		const reader = await join(room, "reader");
		const publisher = await join(room, "publisher");
		// The reader acknowledges what it receives; the publisher too (it receives its own).
		readsEveryFourth(reader.socket);
		readsEveryFourth(publisher.socket);
		const sent = await publishUntil(publisher.socket, "m", SIZE, () => slow.socket.closeEvent !== undefined, 30);
		const closed = await slow.socket.closed();
		expect(closed.code).toBe(CloseCode.SlowConsumer);
		expect(JSON.parse(closed.reason)).toEqual({ code: ErrorCode.SlowConsumer });
		// Closed on the message that took it over the limit, not before.
		const received = messageBytes(slow.socket, 0);
		expect(received).toBeGreaterThan(LIMITS.sendBufferMaxBytes);
		expect(received - (SIZE + 200)).toBeLessThanOrEqual(LIMITS.sendBufferMaxBytes);
		expect(reader.socket.closeEvent).toBeUndefined();
		expect(publisher.socket.closeEvent).toBeUndefined();
		expect(sent).toBeLessThan(30);
		expect((await stats(room)).closes[String(CloseCode.SlowConsumer)]).toBe(1);
		await leaveRoom(room, reader.socket, publisher.socket);
	});

	it("a read resets the account: a consumer that reads now and then is never closed", async () => {
		const room = uniqueRoom();
		const consumer = await join(room, "consumer");
		const publisher = await join(room, "publisher");
		readsEveryFourth(publisher.socket);
		// More than the limit in all, acknowledged every half limit.
		let n = 0;
		for (let round = 0; round < 3; round++) {
			const start = n;
			n += await publishUntil(publisher.socket, `r${round}-`, SIZE, () => messageBytes(consumer.socket, start) > LIMITS.sendBufferMaxBytes / 2);
			const last = await consumer.socket.message(n);
			consumer.socket.send({ type: "read", seq: last.seq });
			await roundTrip(consumer.socket);
		}
		expect(messageBytes(consumer.socket, 0)).toBeGreaterThan(LIMITS.sendBufferMaxBytes);
		expect(consumer.socket.closeEvent).toBeUndefined();
		await leaveRoom(room, consumer.socket, publisher.socket);
	});

	it("when the room's total is over SEND_BUFFER_ROOM_MAX_BYTES, the furthest behind is closed first and the others stay", async () => {
		const room = uniqueRoom();
		const publisher = await join(room, "publisher");
		readsEveryFourth(publisher.socket);
		// Three laggards joined one after another: a is furthest behind, then b, then c.
		const a = await join(room, "a");
		let n = await publishUntil(publisher.socket, "p", SIZE, () => messageBytes(a.socket, 0) > LIMITS.sendBufferRoomMaxBytes / 6);
		const b = await join(room, "b");
		n += await publishUntil(publisher.socket, "q", SIZE, () => messageBytes(b.socket, 0) > LIMITS.sendBufferRoomMaxBytes / 6);
		const c = await join(room, "c");
		await publishUntil(
			publisher.socket,
			"r",
			SIZE,
			() => a.socket.closeEvent !== undefined || b.socket.closeEvent !== undefined || c.socket.closeEvent !== undefined,
		);
		expect((await a.socket.closed()).code).toBe(CloseCode.SlowConsumer);
		// a went over the room total before reaching the per-connection limit.
		expect(messageBytes(a.socket, 0)).toBeLessThanOrEqual(LIMITS.sendBufferMaxBytes);
		expect(b.socket.closeEvent).toBeUndefined();
		expect(c.socket.closeEvent).toBeUndefined();
		expect(n).toBeGreaterThan(0);
		await leaveRoom(room, publisher.socket, b.socket, c.socket);
	});
});
