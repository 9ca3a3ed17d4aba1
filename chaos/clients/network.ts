/**
 * A client's network, as the SDK sees it through its `WebSocket` option: normally a plain `ws`
 * socket; while *offline*, a black hole. Nothing goes out (publishes, pings, close frames), nothing
 * comes in (frames, the server's close), and new dials fail after a short while as an unreachable
 * host does. The server therefore sees a silent socket and must end it with 4008 after
 * HEARTBEAT_TIMEOUT_MS, and the SDK must notice the silence itself — the real "laptop lid shut"
 * case, which a `terminate()` (a clean TCP reset) would not exercise.
 *
 * The wrapper also counts in-band token refreshes (`auth` frames out, `auth_ok` in) and tells
 * which gateway the current socket goes through, for the run's statistics.
 */
import WebSocket from "ws";
import type { SocketCloseEvent, SocketMessageEvent, WebSocketConstructor, WebSocketLike } from "../../client/index.ts";
import { MessageType } from "../../protocol/messages.ts";

/** How long a dial made while offline takes to fail (an unreachable host, not a refused port). */
const OFFLINE_DIAL_FAIL_MS = 300;
/** `readyState` values (the constructor may be wrapped, so they are spelled out). */
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;
/** What the wrapper reports for a close it never saw: an abrupt loss. */
const ABNORMAL = 1006;

type Listener = (event: never) => void;
type EventName = "message" | "close" | "open" | "error";

/** Observations the run collects from the wire. */
export interface WireObserver {
	authSent(): void;
	authOk(): void;
}

/** One client's link to the world: online or not, and the sockets it opened. */
export class Network {
	private offlineSince: number | null = null;
	private readonly sockets = new Set<ChaosSocket>();
	/** Base URL (`ws://host:port`) of the latest socket the SDK dialed. */
	lastDialed: string | null = null;

	constructor(readonly observer: WireObserver) {}

	get offline(): boolean {
		return this.offlineSince !== null;
	}

	goOffline(): void {
		this.offlineSince ??= Date.now();
	}

	/** Back online: a close the server sent meanwhile now "arrives", as a FIN would. */
	goOnline(): number {
		const since = this.offlineSince;
		this.offlineSince = null;
		for (const s of this.sockets) s.networkBack();
		return since === null ? 0 : Date.now() - since;
	}

	/** The `WebSocket` constructor to hand to the SDK. */
	get WebSocket(): WebSocketConstructor {
		const net = this;
		return class extends ChaosSocket {
			constructor(url: string, protocols?: string | string[]) {
				super(net, url, protocols);
			}
		};
	}

	/** Drops every socket this network opened (end of run). */
	terminateAll(): void {
		for (const s of this.sockets) s.terminate();
		this.sockets.clear();
	}

	track(s: ChaosSocket): void {
		this.sockets.add(s);
	}

	untrack(s: ChaosSocket): void {
		this.sockets.delete(s);
	}
}

class ChaosSocket implements WebSocketLike {
	readonly #net: Network;
	readonly #inner: WebSocket | null;
	readonly #listeners = new Map<EventName, Listener[]>();
	/** The SDK let go of this socket (closed it while offline, or a dial failed): it reads CLOSED. */
	#detached = false;
	/** A close that arrived while offline, delivered when the network is back. */
	#heldClose: SocketCloseEvent | null = null;

	constructor(net: Network, url: string, protocols?: string | string[]) {
		this.#net = net;
		net.lastDialed = new URL(url).origin.replace(/^http/, "ws");
		if (net.offline) {
			this.#inner = null;
			setTimeout(() => this.#fail(), OFFLINE_DIAL_FAIL_MS);
			return;
		}
		const inner = new WebSocket(url, protocols);
		this.#inner = inner;
		net.track(this);
		inner.addEventListener("open", () => this.#emit("open", {}));
		inner.addEventListener("error", () => this.#emit("error", {}));
		inner.addEventListener("message", (event) => {
			if (this.#detached || this.#net.offline) return;
			const data: unknown = event.data;
			if (typeof data === "string" && data.startsWith(`{"type":"${MessageType.AuthOk}"`)) this.#net.observer.authOk();
			this.#emit("message", { data });
		});
		inner.addEventListener("close", (event) => {
			this.#net.untrack(this);
			if (this.#detached) return;
			const close = { code: event.code, reason: event.reason };
			if (this.#net.offline) this.#heldClose = close;
			else this.#emit("close", close);
		});
	}

	get readyState(): number {
		if (this.#detached || this.#inner === null) return this.#detached ? CLOSED : CONNECTING;
		// A socket the server closed while offline still looks open: the client cannot know yet.
		return this.#heldClose !== null ? OPEN : this.#inner.readyState;
	}

	send(data: string): void {
		if (this.#detached || this.#net.offline || this.#inner === null || this.#heldClose !== null) return;
		if (data.startsWith(`{"type":"${MessageType.Auth}"`)) this.#net.observer.authSent();
		this.#inner.send(data);
	}

	close(code?: number, reason?: string): void {
		if (this.#detached) return;
		if (this.#inner === null) {
			this.#fail();
			return;
		}
		if (this.#net.offline || this.#heldClose !== null) {
			// The close frame is lost in the black hole; the server finds out by its heartbeat.
			this.#detached = true;
			setTimeout(() => this.#emit("close", { code: ABNORMAL, reason: "" }), 0);
			return;
		}
		this.#inner.close(code, reason);
	}

	addEventListener(type: "message", listener: (event: SocketMessageEvent) => void): void;
	addEventListener(type: "close", listener: (event: SocketCloseEvent) => void): void;
	addEventListener(type: "open" | "error", listener: () => void): void;
	addEventListener(type: EventName, listener: Listener): void {
		const list = this.#listeners.get(type) ?? [];
		list.push(listener);
		this.#listeners.set(type, list);
	}

	/** Called when the network comes back. */
	networkBack(): void {
		const held = this.#heldClose;
		if (held === null || this.#detached) return;
		this.#heldClose = null;
		this.#emit("close", held);
	}

	terminate(): void {
		this.#detached = true;
		this.#inner?.terminate();
	}

	/** A dial that never got through (offline): an error, then a 1006 close. */
	#fail(): void {
		if (this.#detached) return;
		this.#detached = true;
		this.#emit("error", {});
		this.#emit("close", { code: ABNORMAL, reason: "" });
	}

	#emit(type: EventName, event: object): void {
		for (const l of this.#listeners.get(type) ?? []) (l as (e: object) => void)(event);
	}
}
