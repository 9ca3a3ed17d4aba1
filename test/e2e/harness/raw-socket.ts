/**
 * A truly silent WebSocket client over a bare TCP socket: it performs the opening handshake and
 * then sends nothing at all (no data frames, no pings) until the server closes it, recording when
 * the server's close frame arrived.
 *
 * Why not `ws`: local workerd leaves the TCP connection of a hibernatable socket open after a
 * server-initiated close handshake when the client never sent a frame, and `ws` only emits
 * `close` once TCP ends (its own fallback is 30 s). The close *frame* is what the room sends, so
 * that is what the liveness tests time.
 */
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { PROTOCOL, parseServerFrame, type ServerFrame } from "../../../protocol/messages.ts";

export interface CloseFrame {
	code: number;
	reason: string;
	/** `performance.now()` when the close frame was parsed. */
	at: number;
}

const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;

export class SilentSocket {
	readonly frames: ServerFrame[] = [];
	readonly closeFrame: Promise<CloseFrame>;
	/** Resolves once the TCP connection has ended (either side), with `performance.now()`. */
	readonly tcpClosed: Promise<number>;
	private buffer = Buffer.alloc(0);
	private onClose: (f: CloseFrame) => void = () => {};
	private onFrame: () => void = () => {};

	private constructor(
		private readonly socket: Socket,
		readonly label: string,
	) {
		this.closeFrame = new Promise((res) => {
			this.onClose = res;
		});
		this.tcpClosed = new Promise((res) => socket.once("close", () => res(performance.now())));
		socket.on("error", () => {
			// Surfaced through `tcpClosed`.
		});
	}

	/** Opens `/v1/rooms/:room/ws?token=…` and resolves after the 101 and the `welcome` frame. */
	static open(port: number, room: string, token: string, label = "silent", timeoutMs = 15_000): Promise<SilentSocket> {
		const path = `/v1/rooms/${encodeURIComponent(room)}/ws?token=${encodeURIComponent(token)}`;
		const socket = connect(port, "127.0.0.1");
		const client = new SilentSocket(socket, label);
		return new Promise((res, rej) => {
			const timer = setTimeout(() => {
				socket.destroy();
				rej(new Error(`${label}: no 101 + welcome within ${timeoutMs} ms`));
			}, timeoutMs);
			let head = Buffer.alloc(0);
			const onHead = (chunk: Buffer) => {
				head = Buffer.concat([head, chunk]);
				const end = head.indexOf("\r\n\r\n");
				if (end === -1) return;
				socket.off("data", onHead);
				const status = head.subarray(0, end).toString().split("\r\n")[0] ?? "";
				if (!status.includes(" 101 ")) {
					clearTimeout(timer);
					socket.destroy();
					rej(new Error(`${label}: upgrade answered ${JSON.stringify(status)}`));
					return;
				}
				client.onFrame = () => {
					if (client.frames[0]?.type !== "welcome") return;
					clearTimeout(timer);
					client.onFrame = () => {};
					res(client);
				};
				socket.on("data", (c: Buffer) => client.receive(c));
				client.receive(head.subarray(end + 4));
			};
			socket.on("data", onHead);
			socket.once("error", (err) => {
				clearTimeout(timer);
				rej(new Error(`${label}: connect failed: ${err.message}`));
			});
			socket.once("connect", () => {
				socket.write(
					[
						`GET ${path} HTTP/1.1`,
						`Host: 127.0.0.1:${port}`,
						"Upgrade: websocket",
						"Connection: Upgrade",
						`Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
						"Sec-WebSocket-Version: 13",
						`Sec-WebSocket-Protocol: ${PROTOCOL}`,
						"",
						"",
					].join("\r\n"),
				);
			});
		});
	}

	/** Parses unmasked server frames (text and close; anything else is ignored). */
	private receive(chunk: Buffer): void {
		this.buffer = Buffer.concat([this.buffer, chunk]);
		while (this.buffer.length >= 2) {
			const b0 = this.buffer[0] ?? 0;
			const b1 = this.buffer[1] ?? 0;
			let len = b1 & 0x7f;
			let offset = 2;
			if (len === 126) {
				if (this.buffer.length < 4) return;
				len = this.buffer.readUInt16BE(2);
				offset = 4;
			} else if (len === 127) {
				if (this.buffer.length < 10) return;
				len = Number(this.buffer.readBigUInt64BE(2));
				offset = 10;
			}
			if (this.buffer.length < offset + len) return;
			const payload = this.buffer.subarray(offset, offset + len);
			this.buffer = this.buffer.subarray(offset + len);
			const opcode = b0 & 0x0f;
			if (opcode === OPCODE_TEXT) {
				const parsed = parseServerFrame(payload.toString());
				if (parsed.ok) this.frames.push(parsed.value);
				this.onFrame();
			} else if (opcode === OPCODE_CLOSE) {
				const at = performance.now();
				const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
				this.onClose({ code, reason: payload.subarray(2).toString(), at });
				// Answer the close handshake (masked, as a client must), then half-close.
				const mask = randomBytes(4);
				const body = Buffer.from(payload.subarray(0, 2));
				for (let i = 0; i < body.length; i++) body[i] = (body[i] ?? 0) ^ (mask[i % 4] ?? 0);
				this.socket.end(Buffer.concat([Buffer.from([0x80 | OPCODE_CLOSE, 0x80 | body.length]), mask, body]));
			}
		}
	}

	/** The server's close frame, or a rejection with a diagnostic after `timeoutMs`. */
	async waitCloseFrame(timeoutMs: number): Promise<CloseFrame> {
		let timer: NodeJS.Timeout | undefined;
		const deadline = new Promise<never>((_, rej) => {
			timer = setTimeout(() => rej(new Error(`${this.label}: no close frame within ${timeoutMs} ms; frames: ${JSON.stringify(this.frames)}`)), timeoutMs);
		});
		try {
			return await Promise.race([this.closeFrame, deadline]);
		} finally {
			clearTimeout(timer);
		}
	}

	/** Drops the TCP connection. */
	destroy(): void {
		this.socket.destroy();
	}
}
