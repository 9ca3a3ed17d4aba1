/**
 * The SDK, listening only, against a real `wrangler dev`: a drain (1012), a migration (4010) and a
 * kick (4003) reach it as the server's own code within a second of the close frame. The local
 * runtime keeps the TCP connection of a client that never sent a frame open ~10 s after such a
 * close (test/e2e/runtime-close-delay.test.ts, docs/protocol.md §16), and platforms fire `close`
 * only then:
 * - over `ws` with the SDK's pings dropped (a client that never sent a frame), the SDK reads the
 *   code `ws` took from the frame (client/close-watch.ts);
 * - over Node's own WebSocket (undici), which shows no code before `close`, the SDK's ping right
 *   after the welcome (client/heartbeat.ts) keeps the runtime from holding the connection.
 * Before those two changes each was reported ~10 s late.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { connect, type Room, type RoomCloseEvent, type RoomErrorEvent, type WelcomeFrame } from "../../client/index.ts";
import { CloseCode, parseCloseReason } from "../../protocol/close-codes.ts";
import { mintToken, uniqueRoom } from "./harness/client.ts";
import { frameTimedWebSocket, within } from "./harness/close-timing.ts";
import { DevServer } from "./harness/server.ts";

const WAIT_MS = 15_000;

/** The SDK's next `type` event, with when it came. */
function nextEvent<T extends "welcome" | "close" | "error">(
	room: Room,
	type: T,
): Promise<{ value: T extends "welcome" ? WelcomeFrame : T extends "close" ? RoomCloseEvent : RoomErrorEvent; at: number }> {
	return new Promise((resolve) => {
		const off = room.on(type, (value) => {
			off();
			resolve({ value: value as never, at: performance.now() });
		});
	});
}

describe("SDK: a server close reaches a listening client with its code within a second of the close frame", () => {
	let server: DevServer;

	beforeAll(async () => {
		server = await DevServer.start();
	});
	afterAll(async () => {
		await server?.stop();
	});

	/** Connects a listening SDK client over `ws` whose pings are dropped; returns it once welcomed. */
	async function listener(prefix: string) {
		const name = uniqueRoom(prefix);
		const sub = `${prefix}-user`;
		const timed = frameTimedWebSocket({ dropPings: true });
		const room = connect({ url: server.url, room: name, token: await mintToken(sub, [name]), WebSocket: timed.WebSocket, backoff: { base: 100, cap: 1_000 } });
		const welcome = await within(nextEvent(room, "welcome"), WAIT_MS, `${name}: welcome`);
		const first = timed.sockets[0];
		if (first === undefined) throw new Error("the SDK dialed no socket");
		return { name, sub, room, welcome: welcome.value, first };
	}

	describe.concurrent("each server close", () => {
		it("1012 drain: reported as 1012 with retryIn, then resumed", async ({ expect }) => {
			const { name, room, welcome, first } = await listener("frame-1012");
			try {
				const closed = nextEvent(room, "close");
				const back = nextEvent(room, "welcome");
				expect((await server.admin("POST", `/v1/admin/rooms/${name}/drain`)).body).toEqual({ closed: 1 });
				const frame = await within(first.closeFrame, WAIT_MS, "close frame");
				const close = await within(closed, WAIT_MS, "SDK close event");
				expect(frame.code).toBe(CloseCode.ServiceRestart);
				expect(close.value).toMatchObject({ code: CloseCode.ServiceRestart, willReconnect: true });
				expect(parseCloseReason(close.value.reason).retryIn).toBeTypeOf("number");
				expect(close.at - frame.at, "SDK close after the close frame (ms)").toBeLessThan(1_000);
				expect((await within(back, WAIT_MS, "resumed welcome")).value).toMatchObject({ resumed: true, session: welcome.session });
			} finally {
				room.close();
			}
		});

		it("4010 migration: reported as 4010, then resumed at the new home", async ({ expect }) => {
			const { name, room, welcome, first } = await listener("frame-4010");
			try {
				const closed = nextEvent(room, "close");
				const back = nextEvent(room, "welcome");
				const moved = await server.admin("POST", `/v1/admin/rooms/${name}/migrate`, { to: "weur" });
				expect(moved.body).toMatchObject({ to: "weur", moved: 1 });
				const frame = await within(first.closeFrame, WAIT_MS, "close frame");
				const close = await within(closed, WAIT_MS, "SDK close event");
				expect(frame.code).toBe(CloseCode.RoomMoved);
				expect(close.value).toMatchObject({ code: CloseCode.RoomMoved, willReconnect: true });
				expect(close.at - frame.at, "SDK close after the close frame (ms)").toBeLessThan(1_000);
				expect((await within(back, WAIT_MS, "resumed welcome")).value).toMatchObject({ resumed: true, session: welcome.session, home: "weur" });
			} finally {
				room.close();
			}
		});

		it("4003 kick: reported as 4003 forbidden, and the SDK stops", async ({ expect }) => {
			const { name, sub, room, first } = await listener("frame-4003");
			const closed = nextEvent(room, "close");
			const failed = nextEvent(room, "error");
			expect((await server.admin("POST", `/v1/admin/rooms/${name}/kick`, { sub })).body).toEqual({ closed: 1 });
			const frame = await within(first.closeFrame, WAIT_MS, "close frame");
			const close = await within(closed, WAIT_MS, "SDK close event");
			expect(close.value).toMatchObject({ code: CloseCode.Forbidden, willReconnect: false });
			expect(close.at - frame.at, "SDK close after the close frame (ms)").toBeLessThan(1_000);
			expect((await failed).value).toMatchObject({ code: "forbidden", closeCode: CloseCode.Forbidden });
			expect(room.state).toBe("closed");
		});

		it("1012 drain over Node's own WebSocket: reported as 1012 within a second of the drain's answer", async ({ expect }) => {
			expect(typeof globalThis.WebSocket, "Node ≥ 22 has a global WebSocket").toBe("function");
			const name = uniqueRoom("frame-undici");
			// No WebSocket option: the SDK takes the global one.
			const room = connect({ url: server.url, room: name, token: await mintToken("undici-user", [name]), backoff: { base: 100, cap: 1_000 } });
			try {
				await within(nextEvent(room, "welcome"), WAIT_MS, "welcome");
				const closed = nextEvent(room, "close");
				expect((await server.admin("POST", `/v1/admin/rooms/${name}/drain`)).body).toEqual({ closed: 1 });
				const answered = performance.now();
				const close = await within(closed, WAIT_MS, "SDK close event");
				expect(close.value).toMatchObject({ code: CloseCode.ServiceRestart, willReconnect: true });
				expect(close.at - answered, "SDK close after the drain answered (ms)").toBeLessThan(1_000);
			} finally {
				room.close();
			}
		});
	});
});
