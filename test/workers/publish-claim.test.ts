/**
 * The `publish` claim (CONTRACT.md §11): a token whose claim lacks the room reads everything and
 * may not publish — over the socket an `error` frame `forbidden` with the publish's id (not a
 * protocol error: the connection stays), over HTTP 403 `forbidden` — while a publisher in the
 * same room is unaffected. In-band `auth` replaces the rights with the new token's.
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { claimsFor, expectErrorResponse, history, httpPublish, join, leaveRoom, mintToken, muteInfoLogs, tokenFor, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

const viewerClaims = (room: string, publish: string[] = []) => ({ claims: { rooms: [room], publish } });

describe("a read-only viewer beside a publisher", () => {
	it("receives every message, live and replayed, and its socket publishes are refused forbidden with their id", async () => {
		const room = uniqueRoom();
		const publisher = await join(room, "pub");
		const viewer = await join(room, "viewer", viewerClaims(room));
		publisher.socket.publish("p1", { n: 1 });
		expect(await publisher.socket.ack("p1")).toMatchObject({ seq: 1, dup: false });
		expect(await viewer.socket.message(1)).toMatchObject({ from: "pub", data: { n: 1 } });

		viewer.socket.publish("v1", { n: "nope" });
		expect(await viewer.socket.error(ErrorCode.Forbidden)).toEqual({ type: "error", code: "forbidden", message: expect.any(String), id: "v1" });

		publisher.socket.publish("p2", { n: 2 });
		expect(await publisher.socket.ack("p2")).toMatchObject({ seq: 2 });
		expect(await viewer.socket.message(2)).toMatchObject({ from: "pub", data: { n: 2 } });
		expect(viewer.socket.frames().filter((f) => f.type === "message" && f.from === "viewer")).toEqual([]);

		// A later viewer connection replays the log like any other.
		const late = await join(room, "viewer", { ...viewerClaims(room), after: 0 });
		expect(late.welcome.replayed).toBe(2);
		await late.socket.message(2);
		await leaveRoom(room, publisher.socket, viewer.socket, late.socket);
	});

	it("refusals are not protocol errors: twelve refused publishes leave the connection open", async () => {
		const room = uniqueRoom();
		const viewer = await join(room, "viewer", viewerClaims(room));
		for (let i = 0; i < 12; i++) {
			viewer.socket.publish(`v${i}`);
			expect(await viewer.socket.nextFrame("error", (f) => f.id === `v${i}`)).toMatchObject({ code: ErrorCode.Forbidden });
		}
		expect(viewer.socket.closeEvent).toBeUndefined();
		// The connection still reads: a publish by someone else arrives.
		expect((await httpPublish(room, await tokenFor(room, "pub"), { data: "hi" })).status).toBe(200);
		expect(await viewer.socket.message(1)).toMatchObject({ data: "hi" });
		await leaveRoom(room, viewer.socket);
	});

	it("its HTTP publish answers 403 forbidden and stores nothing; its history read works; a publisher's HTTP publish is stored", async () => {
		const room = uniqueRoom();
		const viewer = await mintToken(claimsFor([room], { sub: "viewer", publish: [] }));
		await expectErrorResponse(await httpPublish(room, viewer, { data: { n: 1 }, id: "x" }), 403, ErrorCode.Forbidden);
		const publisher = await tokenFor(room, "pub");
		const res = await httpPublish(room, publisher, { data: { n: 2 } });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ seq: 1 });
		expect((await history(room, viewer)).messages.map((m) => m.from)).toEqual(["pub"]);
	});

	it("the claim's patterns pick the rooms: publish [chat-*] publishes in chat-x, not in board-x", async () => {
		const prefix = `p${crypto.randomUUID().slice(0, 8)}`;
		const chat = `${prefix}-chat-x`;
		const board = `${prefix}-board-x`;
		const token = await mintToken(claimsFor([`${prefix}-*`], { sub: "mixed", publish: [`${prefix}-chat-*`] }));
		expect((await httpPublish(chat, token, { data: 1 })).status).toBe(200);
		await expectErrorResponse(await httpPublish(board, token, { data: 1 }), 403, ErrorCode.Forbidden);
		const inChat = await join(chat, "mixed", { token });
		const inBoard = await join(board, "mixed", { token });
		inChat.socket.publish("c1");
		expect(await inChat.socket.ack("c1")).toMatchObject({ seq: 2 });
		inBoard.socket.publish("b1");
		expect(await inBoard.socket.error(ErrorCode.Forbidden)).toMatchObject({ id: "b1" });
		await leaveRoom(chat, inChat.socket);
		await leaveRoom(board, inBoard.socket);
	});

	it("without a publish claim every room of rooms may be published to (as before)", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		socket.publish("a1");
		expect(await socket.ack("a1")).toMatchObject({ seq: 1 });
		await leaveRoom(room, socket);
	});
});

describe("in-band auth replaces the publish rights", () => {
	it("a viewer refreshed with a token that may publish can publish; a publisher refreshed read-only cannot", async () => {
		const room = uniqueRoom();
		const viewer = await join(room, "viewer", viewerClaims(room));
		viewer.socket.send({ type: "auth", token: await mintToken(claimsFor([room], { sub: "viewer" })) });
		await viewer.socket.nextFrame("auth_ok");
		viewer.socket.publish("v1");
		expect(await viewer.socket.ack("v1")).toMatchObject({ seq: 1 });

		const publisher = await join(room, "pub");
		publisher.socket.send({ type: "auth", token: await mintToken(claimsFor([room], { sub: "pub", publish: ["elsewhere"] })) });
		await publisher.socket.nextFrame("auth_ok");
		publisher.socket.publish("p1");
		expect(await publisher.socket.error(ErrorCode.Forbidden)).toMatchObject({ id: "p1" });
		await leaveRoom(room, viewer.socket, publisher.socket);
	});

	it("a refused refresh keeps the old rights", async () => {
		const room = uniqueRoom();
		const viewer = await join(room, "viewer", viewerClaims(room));
		viewer.socket.send({ type: "auth", token: await mintToken(claimsFor([room], { sub: "mallory" })) });
		await viewer.socket.error(ErrorCode.Unauthorized);
		viewer.socket.publish("v1");
		expect(await viewer.socket.error(ErrorCode.Forbidden)).toMatchObject({ id: "v1" });
		await leaveRoom(room, viewer.socket);
	});
});
