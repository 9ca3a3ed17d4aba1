import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { connect, type Room, type RoomEvents } from "../../client/index.ts";
import { parseClientFrame, type WelcomeFrame } from "../../protocol/index.ts";

/**
 * The SDK against the real `ws` package (Node 20's way to get a WebSocket) over loopback, with a
 * tiny in-test server that speaks just enough baton.v1: welcome, replay after `after`, publish →
 * ack + broadcast, ping → pong.
 */
class MiniServer {
	readonly wss: WebSocketServer;
	readonly log: { seq: number; id: string; data: unknown }[] = [];
	readonly connects: URLSearchParams[] = [];
	readonly sockets = new Set<WebSocket>();
	readonly clientCloses: number[] = [];

	constructor() {
		this.wss = new WebSocketServer({ port: 0, host: "127.0.0.1", handleProtocols: (protocols) => (protocols.has("baton.v1") ? "baton.v1" : false) });
		this.wss.on("connection", (socket, request) => {
			const url = new URL(request.url ?? "/", "http://x");
			// The SDK sends its access token as the `baton.auth.<jwt>` subprotocol; record it beside the query.
			const auth = (request.headers["sec-websocket-protocol"] ?? "")
				.split(",")
				.map((p) => p.trim())
				.find((p) => p.startsWith("baton.auth."));
			if (auth !== undefined) url.searchParams.set("auth", auth.slice("baton.auth.".length));
			this.#accept(socket, url);
		});
	}

	get url(): string {
		return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
	}

	/** Stores a message published by someone else while a client may be offline. */
	store(data: unknown): void {
		const entry = { seq: this.log.length + 1, id: `srv-${this.log.length + 1}`, data };
		this.log.push(entry);
		this.#broadcast(entry);
	}

	/** Drops every connection without a close frame (the client sees 1006). */
	dropAll(): void {
		for (const socket of this.sockets) socket.terminate();
	}

	close(): Promise<void> {
		for (const socket of this.sockets) socket.terminate();
		return new Promise((resolve) => this.wss.close(() => resolve()));
	}

	#accept(socket: WebSocket, url: URL): void {
		this.connects.push(url.searchParams);
		this.sockets.add(socket);
		socket.on("close", (code) => {
			this.sockets.delete(socket);
			this.clientCloses.push(code);
		});
		const afterParam = url.searchParams.get("after");
		const after = afterParam === null ? null : Number(afterParam);
		const replay = after === null ? [] : this.log.filter((m) => m.seq > after);
		const welcome: WelcomeFrame = {
			type: "welcome",
			session: "s1",
			resume: `resume-${this.connects.length}`,
			seq: this.log.length,
			resumed: url.searchParams.has("resume"),
			replayed: replay.length,
			gap: false,
			region: "wnam",
			home: "wnam",
			heartbeat: { interval: 30_000, timeout: 90_000 },
			presence: [],
			epoch: "epoch-1",
			reset: false,
		};
		socket.send(JSON.stringify(welcome));
		for (const m of replay) socket.send(JSON.stringify({ type: "message", ...m, from: "u", ts: 1 }));
		socket.on("message", (raw, isBinary) => {
			const text = isBinary ? "" : raw.toString();
			if (text === "ping") return socket.send("pong");
			const parsed = parseClientFrame(text);
			if (!parsed.ok || parsed.value.type !== "publish") return;
			const publish = parsed.value;
			const known = this.log.find((m) => m.id === publish.id);
			const entry = known ?? { seq: this.log.length + 1, id: publish.id, data: publish.data };
			if (known === undefined) this.log.push(entry);
			socket.send(JSON.stringify({ type: "ack", id: entry.id, seq: entry.seq, dup: known !== undefined }));
			if (known === undefined) this.#broadcast(entry);
		});
	}

	#broadcast(entry: { seq: number; id: string; data: unknown }): void {
		for (const socket of this.sockets) socket.send(JSON.stringify({ type: "message", ...entry, from: "u", ts: 1 }));
	}
}

/** The next `type` event, or a rejection naming what was awaited and the room's state. */
function next<K extends keyof RoomEvents>(room: Room, type: K, timeoutMs = 5_000): Promise<RoomEvents[K]> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			off();
			reject(new Error(`no "${String(type)}" event within ${timeoutMs} ms (state ${room.state}, lastSeq ${room.lastSeq})`));
		}, timeoutMs);
		const off = room.on(type, (payload) => {
			clearTimeout(timer);
			off();
			resolve(payload);
		});
	});
}

let server: MiniServer | undefined;
let room: Room | undefined;

afterEach(async () => {
	room?.close();
	await server?.close();
});

describe("with the ws package over a real socket", () => {
	it("publishes, receives, survives an abrupt drop with resume and replay, and closes with 1000", async () => {
		server = new MiniServer();
		await new Promise((resolve) => server?.wss.once("listening", resolve));
		room = connect({ url: server.url, room: "lobby", token: "jwt", WebSocket, backoff: { base: 10, cap: 50 } });
		await next(room, "welcome");
		expect(server.connects[0]?.get("auth")).toBe("jwt");
		expect(server.connects[0]?.get("token")).toBeNull();

		const echoed = next(room, "message");
		await expect(room.publish({ text: "hi" })).resolves.toEqual({ seq: 1, dup: false });
		expect((await echoed).data).toEqual({ text: "hi" });

		const reclosed = next(room, "close");
		server.dropAll();
		expect(await reclosed).toMatchObject({ code: 1006, willReconnect: true });
		server.store("while you were away");
		const replayed = next(room, "message");
		await next(room, "welcome");
		expect(server.connects[1]?.get("resume")).toBe("resume-1");
		expect(server.connects[1]?.get("after")).toBe("1");
		expect(await replayed).toMatchObject({ seq: 2, data: "while you were away" });
		expect(room.lastSeq).toBe(2);

		const serverSawClose = new Promise<void>((resolve) => [...(server?.sockets ?? [])][0]?.once("close", () => resolve()));
		room.close();
		await serverSawClose;
		expect(server.clientCloses.at(-1)).toBe(1000);
	});
});
