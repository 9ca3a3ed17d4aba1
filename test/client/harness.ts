import { afterEach, beforeEach, vi } from "vitest";
import { type ConnectOptions, connect, type Room, type RoomEvents } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";

/**
 * Registers the calling file's per-test setup: fake timers, `Math.random` pinned to `random` (so
 * backoff jitter is exact) and a fresh FakeWebSocket registry; undone after each test, stubbed
 * globals included.
 */
export function useFakes(random = 0.5): void {
	beforeEach(() => {
		vi.useFakeTimers();
		vi.spyOn(Math, "random").mockReturnValue(random);
		FakeWebSocket.reset();
	});
	afterEach(() => {
		vi.useRealTimers();
		vi.restoreAllMocks();
		vi.unstubAllGlobals();
	});
}

/** Every event a room emitted, by type, in order. */
export type Recorded = { [K in keyof RoomEvents]: RoomEvents[K][] };

/** Subscribes to every event type and records the payloads. */
export function record(room: Room): Recorded {
	const recorded: Recorded = {
		welcome: [],
		message: [],
		presence: [],
		presence_state: [],
		presence_count: [],
		state: [],
		error: [],
		close: [],
		dial_failed: [],
		ack: [],
		gap: [],
	};
	room.on("welcome", (p) => recorded.welcome.push(p));
	room.on("message", (p) => recorded.message.push(p));
	room.on("presence", (p) => recorded.presence.push(p));
	room.on("presence_state", (p) => recorded.presence_state.push(p));
	room.on("presence_count", (p) => recorded.presence_count.push(p));
	room.on("state", (p) => recorded.state.push(p));
	room.on("error", (p) => recorded.error.push(p));
	room.on("close", (p) => recorded.close.push(p));
	room.on("dial_failed", (p) => recorded.dial_failed.push(p));
	room.on("ack", (p) => recorded.ack.push(p));
	room.on("gap", (p) => recorded.gap.push(p));
	return recorded;
}

/** Connects with a FakeWebSocket and sensible test defaults; any option can be overridden. */
export function start(options: Partial<ConnectOptions> = {}): { room: Room; events: Recorded } {
	const room = connect({ url: "http://127.0.0.1:8787", room: "lobby", token: "token-1", WebSocket: FakeWebSocket, ...options });
	return { room, events: record(room) };
}

/** Runs microtasks and timers due now (the SDK dials from a microtask). */
export async function settle(): Promise<void> {
	await vi.advanceTimersByTimeAsync(0);
}

/** Connects and answers the first dial with a welcome. */
export async function startOpen(
	options: Partial<ConnectOptions> = {},
	welcome: Parameters<FakeWebSocket["welcome"]>[0] = {},
): Promise<{ room: Room; events: Recorded; ws: FakeWebSocket }> {
	const started = start(options);
	await settle();
	const ws = FakeWebSocket.last;
	ws.welcome(welcome);
	return { ...started, ws };
}

/** Messages delivered to the app, as seq numbers. */
export function seqs(events: Recorded): number[] {
	return events.message.map((m) => m.seq);
}

/**
 * Asserts that the SDK dials its next socket exactly `ms` from now: not a millisecond earlier.
 * Returns the new socket.
 */
export async function expectRedialAfter(ms: number): Promise<FakeWebSocket> {
	const before = FakeWebSocket.instances.length;
	if (ms > 0) {
		await vi.advanceTimersByTimeAsync(ms - 1);
		if (FakeWebSocket.instances.length !== before) throw new Error(`redialed before ${ms} ms`);
		await vi.advanceTimersByTimeAsync(1);
	} else {
		await settle();
	}
	if (FakeWebSocket.instances.length !== before + 1) {
		throw new Error(`expected a redial after ${ms} ms; sockets: ${before} → ${FakeWebSocket.instances.length}`);
	}
	return FakeWebSocket.last;
}

/** An unsigned JWT-shaped token with the given claims (the SDK reads claims, never verifies). */
export function fakeJwt(claims: { exp?: number; sub?: string; [claim: string]: unknown }): string {
	const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
	return `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}.c2ln`;
}

/** `exp` (seconds) for a token expiring `ms` from the current (fake) clock. */
export function expIn(ms: number): number {
	return Math.floor((Date.now() + ms) / 1000);
}

/** An in-memory Web Storage, with a switch to make writes fail like a full quota. */
export class MemoryStorage {
	readonly items = new Map<string, string>();
	writes = 0;
	failWrites = false;

	getItem(key: string): string | null {
		return this.items.get(key) ?? null;
	}

	setItem(key: string, value: string): void {
		if (this.failWrites) throw new Error("QuotaExceededError");
		this.writes++;
		this.items.set(key, value);
	}

	removeItem(key: string): void {
		this.items.delete(key);
	}

	/** The saved session under `key`, parsed. */
	saved(key: string): { sub: string | null; resume: string | null; lastSeq: number | null; outbox: { id: string; frame: string }[] } | null {
		const text = this.items.get(key);
		return text === undefined ? null : JSON.parse(text);
	}
}

/** A stand-in for `window` as a source of `online`/`offline` events. */
export class FakeNetwork {
	readonly #listeners = new Map<string, Set<() => void>>();

	addEventListener(type: "online" | "offline", listener: () => void): void {
		const set = this.#listeners.get(type) ?? new Set();
		set.add(listener);
		this.#listeners.set(type, set);
	}

	removeEventListener(type: "online" | "offline", listener: () => void): void {
		this.#listeners.get(type)?.delete(listener);
	}

	/** Listeners currently attached, over both events. */
	get listeners(): number {
		let n = 0;
		for (const set of this.#listeners.values()) n += set.size;
		return n;
	}

	dispatch(type: "online" | "offline"): void {
		for (const listener of [...(this.#listeners.get(type) ?? [])]) listener();
	}
}
