import type { WebSocketLike } from "../../client/index.ts";
import { type PublishFrame, parseClientFrame, type WelcomeFrame } from "../../protocol/index.ts";

/** Every event carries every field, so one listener type fits the SDK's per-event signatures. */
interface FakeEvent {
	data: unknown;
	code: number;
	reason: string;
}
type Listener = (event: FakeEvent) => void;
type EventName = "open" | "message" | "close" | "error";

/**
 * An in-memory WebSocket for SDK tests: the SDK drives the client side through the normal
 * WebSocket API, the test plays the server with `open`, `receive`, `welcome`, `serverClose`...
 * Every instance is recorded in `FakeWebSocket.instances`, newest last.
 */
export class FakeWebSocket implements WebSocketLike {
	static instances: FakeWebSocket[] = [];

	/** The socket the SDK dialed most recently. */
	static get last(): FakeWebSocket {
		const last = FakeWebSocket.instances.at(-1);
		if (last === undefined) throw new Error("no FakeWebSocket has been created");
		return last;
	}

	static reset(): void {
		FakeWebSocket.instances = [];
	}

	readonly url: URL;
	readonly protocols: string[];
	readyState = 0;
	/** Text frames the SDK sent, in order. */
	readonly sent: string[] = [];
	/** What the SDK passed to close(), if it did. */
	closedByClient: { code: number | undefined; reason: string | undefined } | null = null;
	#listeners = new Map<EventName, Listener[]>();

	constructor(url: string, protocols?: string | string[]) {
		this.url = new URL(url);
		this.protocols = protocols === undefined ? [] : typeof protocols === "string" ? [protocols] : protocols;
		FakeWebSocket.instances.push(this);
	}

	/** The access token the SDK offered as the `baton.auth.<jwt>` subprotocol, if any. */
	get token(): string | null {
		const auth = this.protocols.find((p) => p.startsWith("baton.auth."));
		return auth === undefined ? null : auth.slice("baton.auth.".length);
	}

	addEventListener(type: EventName, listener: Listener): void {
		const list = this.#listeners.get(type) ?? [];
		list.push(listener);
		this.#listeners.set(type, list);
	}

	send(data: string): void {
		if (this.readyState !== 1) throw new Error("FakeWebSocket: send() while not open");
		this.sent.push(data);
	}

	/** Like a real socket: the close event follows asynchronously. */
	close(code?: number, reason?: string): void {
		if (this.readyState >= 2) return;
		this.closedByClient = { code, reason };
		this.readyState = 2;
		queueMicrotask(() => this.#closed(code ?? 1005, reason ?? ""));
	}

	// ---- the server's side ----

	/** The query parameters of the connect URL. */
	get query(): URLSearchParams {
		return this.url.searchParams;
	}

	open(): void {
		this.readyState = 1;
		this.#dispatch("open", {});
	}

	/** Delivers one text frame (objects are JSON-encoded). */
	receive(frame: object | string): void {
		if (this.readyState === 0) this.open();
		this.#dispatch("message", { data: typeof frame === "string" ? frame : JSON.stringify(frame) });
	}

	/** Opens (if needed) and sends a welcome. */
	welcome(overrides: Partial<WelcomeFrame> = {}): void {
		this.receive(welcomeFrame(overrides));
	}

	/** Sends a room message with the given seq. */
	message(seq: number, data: unknown = `m${seq}`): void {
		this.receive({ type: "message", seq, id: `id-${seq}`, from: "alice", data, ts: 1_700_000_000_000 + seq });
	}

	ack(id: string, seq: number, dup = false): void {
		this.receive({ type: "ack", id, seq, dup });
	}

	/** The server closes the socket (or, with 1006, the network drops it). */
	serverClose(code: number, reason: string | object = ""): void {
		this.#closed(code, typeof reason === "string" ? reason : JSON.stringify(reason));
	}

	/**
	 * The server's close frame arrives but the TCP connection stays open, so no `close` event
	 * fires (a later `serverClose` delivers it). Every platform turns the socket CLOSING; with
	 * `exposesCode` the socket also keeps what it read where the `ws` package does.
	 */
	receiveCloseFrame(code: number, reason: string | object = "", { exposesCode }: { exposesCode: boolean }): void {
		this.readyState = 2;
		if (!exposesCode) return;
		const text = typeof reason === "string" ? reason : JSON.stringify(reason);
		Object.assign(this, { _closeFrameReceived: true, _closeCode: code, _closeMessage: new TextEncoder().encode(text) });
	}

	/** The `publish` frames the SDK sent on this socket, in order. */
	publishes(): PublishFrame[] {
		const out: PublishFrame[] = [];
		for (const text of this.sent) {
			const parsed = parseClientFrame(text);
			if (parsed.ok && parsed.value.type === "publish") out.push(parsed.value);
		}
		return out;
	}

	/** The seqs of the `read` frames the SDK sent on this socket, in order. */
	reads(): number[] {
		const out: number[] = [];
		for (const text of this.sent) {
			const parsed = parseClientFrame(text);
			if (parsed.ok && parsed.value.type === "read") out.push(parsed.value.seq);
		}
		return out;
	}

	/** How many `ping` frames the SDK sent on this socket. */
	pings(): number {
		return this.sent.filter((text) => text === "ping").length;
	}

	#closed(code: number, reason: string): void {
		if (this.readyState === 3) return;
		this.readyState = 3;
		this.#dispatch("close", { code, reason });
	}

	#dispatch(type: EventName, fields: Partial<FakeEvent>): void {
		const event: FakeEvent = { data: undefined, code: 0, reason: "", ...fields };
		for (const listener of this.#listeners.get(type) ?? []) listener(event);
	}
}

/** A valid welcome frame; override any field. */
export function welcomeFrame(overrides: Partial<WelcomeFrame> = {}): WelcomeFrame {
	return {
		type: "welcome",
		session: "s1",
		resume: "resume-1",
		seq: 0,
		resumed: false,
		replayed: 0,
		gap: false,
		region: "wnam",
		home: "wnam",
		heartbeat: { interval: 30_000, timeout: 90_000 },
		presence: [],
		epoch: "epoch-1",
		reset: false,
		...overrides,
	};
}
