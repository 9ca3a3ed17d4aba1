/**
 * examples/chat as its users run it: `wrangler dev` inside examples/chat (its own wrangler.toml,
 * `[assets]` for the page, `baton-rooms/server` by package name). Its room's `onPublish` stores
 * `{ text }` trimmed and nothing else, and refuses with the chat's own codes (socket: error frame;
 * HTTP: 422) without storing anything; the page is served, and with BATON_DEV_TOKENS unset the
 * dev token route is a 404 (the page then says how to point it at a token endpoint).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connect, type Room } from "../../client/index.ts";
import { mintToken, uniqueRoom } from "./harness/client.ts";
import { buildExample, EXAMPLE_BUILD_TIMEOUT_MS } from "./harness/examples.ts";
import { nextEvent } from "./harness/sdk.ts";
import { DevServer } from "./harness/server.ts";

describe("examples/chat under wrangler dev", () => {
	let server: DevServer;
	const rooms: Room<unknown>[] = [];

	beforeAll(async () => {
		const app = await buildExample("chat");
		server = await DevServer.start({ app, vars: { BATON_DEV_TOKENS: "false" } });
	}, EXAMPLE_BUILD_TIMEOUT_MS);
	afterAll(async () => {
		for (const room of rooms) room.close();
		await server?.stop();
	});

	async function open(sub: string, room: string): Promise<Room<unknown>> {
		const sdk = connect<unknown>({ url: server.url, room, token: await mintToken(sub, [room]), WebSocket });
		rooms.push(sdk);
		await sdk.ready;
		return sdk;
	}

	it("serves the page, its script and the SDK bundle from [assets]; without dev tokens /dev/token is a 404", async () => {
		const page = await fetch(`${server.url}/`);
		expect(page.status).toBe(200);
		const html = await page.text();
		expect(html).toContain('<meta name="baton-token-endpoint" content="/dev/token">');
		expect(html).toContain('id="no-token-endpoint"');
		const script = await (await fetch(`${server.url}/demo.js`)).text();
		expect(script).toContain('from "/baton-client.js"');
		const sdk = await fetch(`${server.url}/baton-client.js`);
		expect(sdk.status).toBe(200);
		expect(await sdk.text()).toMatch(/export\s*\{[^}]*\bconnect\b[^}]*\}/);
		const token = await fetch(`${server.url}/dev/token?sub=a&room=lobby`);
		expect(token.status).toBe(404);
		expect(await token.json()).toMatchObject({ error: { code: "not_found" } });
	});

	it("stores the text trimmed and nothing else the client sent", async () => {
		const room = uniqueRoom("chat-trim");
		const alice = await open("alice", room);
		const bob = await open("bob", room);
		const received = nextEvent(bob, "message");
		expect(await alice.publish({ text: "  hello there \n", color: "red" })).toEqual({ seq: 1, dup: false });
		const message = await received;
		expect(message).toMatchObject({ seq: 1, from: "alice" });
		expect(message.data).toEqual({ text: "hello there" });
		const longest = "x".repeat(500);
		expect(await alice.publish({ text: ` ${longest} ` })).toEqual({ seq: 2, dup: false });
		const page = await alice.history({ limit: 10 });
		expect(page.messages.map((m) => m.data)).toEqual([{ text: "hello there" }, { text: longest }]);
	});

	it("refuses an empty, a too long and a non-text message with the chat's own codes, socket and HTTP, and stores none", async () => {
		const room = uniqueRoom("chat-reject");
		const alice = await open("alice", room);
		await expect(alice.publish({ text: " \n\t " })).rejects.toMatchObject({ name: "BatonError", code: "empty_message" });
		await expect(alice.publish({ text: "x".repeat(501) })).rejects.toMatchObject({ code: "message_too_long" });
		await expect(alice.publish({ text: 42 })).rejects.toMatchObject({ code: "text_required" });
		await expect(alice.publish("just a string")).rejects.toMatchObject({ code: "text_required" });
		// The connection carries on: a refusal by the hook is not a protocol error.
		expect(alice.state).toBe("open");

		const http = await fetch(`${server.url}/v1/rooms/${room}/messages`, {
			method: "POST",
			headers: { Authorization: `Bearer ${await mintToken("carol", [room])}`, "Content-Type": "application/json" },
			body: JSON.stringify({ data: { text: "   " } }),
		});
		expect(http.status).toBe(422);
		expect(await http.json()).toEqual({ error: { code: "empty_message", message: "the message is empty" } });

		expect(await alice.publish({ text: "finally" })).toEqual({ seq: 1, dup: false });
		const page = await alice.history({ limit: 10 });
		expect(page.messages.map((m) => [m.seq, m.data])).toEqual([[1, { text: "finally" }]]);
	});
});
