import { createHash } from "node:crypto";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { CloseCode, connect, type Room, type RoomCloseEvent } from "../../client/index.ts";
import { welcomeFrame } from "./fake-websocket.ts";

/**
 * A WebSocket server over bare TCP that behaves like local workerd after a server close to a
 * client that never sent a frame (docs/protocol.md §16): it sends the close frame and then never
 * ends the TCP connection (half-open allowed, the client's reply ignored). With the real `ws`
 * package `close` would fire only after its 30 s closeTimeout.
 */
class LingeringServer {
	readonly server: Server;
	readonly sockets: Socket[] = [];
	#onSocket: (socket: Socket) => void = () => undefined;

	constructor() {
		this.server = createServer({ allowHalfOpen: true }, (socket) => this.#handshake(socket));
	}

	async listen(): Promise<string> {
		await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
		return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
	}

	/** The next socket that completed the opening handshake and got a welcome. */
	nextSocket(): Promise<Socket> {
		return new Promise((resolve) => {
			this.#onSocket = resolve;
		});
	}

	close(): Promise<void> {
		for (const socket of this.sockets) socket.destroy();
		return new Promise((resolve) => this.server.close(() => resolve()));
	}

	#handshake(socket: Socket): void {
		this.sockets.push(socket);
		let head = "";
		const onData = (chunk: Buffer): void => {
			head += chunk.toString("latin1");
			if (!head.includes("\r\n\r\n")) return;
			socket.off("data", onData);
			// From here on the client's frames (its close reply included) are read and dropped.
			socket.on("data", () => undefined);
			const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
			const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
			socket.write(
				`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: baton.v1\r\n\r\n`,
			);
			socket.write(serverFrame(0x1, Buffer.from(JSON.stringify(welcomeFrame()))));
			this.#onSocket(socket);
		};
		socket.on("data", onData);
	}
}

/** An unmasked server frame (FIN set), payload under 64 KiB. */
function serverFrame(opcode: number, payload: Buffer): Buffer {
	const header =
		payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
	return Buffer.concat([header, payload]);
}

function closeFrame(code: number, reason: string): Buffer {
	const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
	payload.writeUInt16BE(code, 0);
	payload.write(reason, 2);
	return serverFrame(0x8, payload);
}

let server: LingeringServer | undefined;
let room: Room | undefined;

afterEach(async () => {
	room?.close();
	await server?.close();
});

describe("the real ws package, server close frame without a TCP close", () => {
	it.each([
		[CloseCode.ServiceRestart, '{"retryIn":100}', true],
		[CloseCode.RoomMoved, '{"home":"weur","retryIn":0}', true],
		[CloseCode.Forbidden, '{"code":"forbidden"}', false],
	])("reports %i with the server's reason within a second of the frame", async (code, reason, willReconnect) => {
		server = new LingeringServer();
		const url = await server.listen();
		const dialed = server.nextSocket();
		room = connect({ url, room: "lobby", token: "jwt", WebSocket, backoff: { base: 10, cap: 50 } });
		const socket = await dialed;
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no welcome (state ${room?.state})`)), 5_000);
			room?.on("welcome", () => {
				clearTimeout(timer);
				resolve();
			});
		});
		const closed = new Promise<RoomCloseEvent & { at: number }>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error("no close event within 3 s of the close frame")), 3_000);
			room?.on("close", (event) => {
				clearTimeout(timer);
				resolve({ ...event, at: performance.now() });
			});
		});
		const sentAt = performance.now();
		socket.write(closeFrame(code, reason));
		const close = await closed;
		expect(close).toMatchObject({ code, reason, willReconnect });
		expect(close.at - sentAt).toBeLessThan(1_000);
		// The SDK did not wait for TCP: the server never ended its side.
		expect(socket.writableEnded).toBe(false);
	});
});
