/**
 * The SDK's reaction to every close code the server can produce (CONTRACT.md §6), against real
 * `wrangler dev` processes: each code is caused for real (drain, heartbeat silence, an expiring
 * token, an oversize frame, a binary frame, a kick, a session takeover, a SIGKILL), and the test
 * checks what the app sees — state transitions, the `close` event's `{code, willReconnect}`, the
 * `error` event, the resumed `welcome` — and that no message is lost or delivered twice.
 *
 * Local quirk, relied on below: after a close the room sends outside a socket event (drain RPC,
 * kick RPC, alarm 4008/4001, a takeover from another connection's upgrade), local workerd keeps
 * the TCP connection open until the room hibernates (~10 s), and `ws` fires `close` only once TCP
 * ends. Those waits are budgeted at 30 s. (Browsers give up after ~2 s; the edge closes at once.)
 */
import { afterAll, beforeAll, describe, type ExpectStatic, it } from "vitest";
import WebSocket from "ws";
import {
	BatonError,
	connect,
	type DialFailedEvent,
	type Room,
	type RoomCloseEvent,
	type RoomErrorEvent,
	type RoomState,
	type WebSocketLike,
} from "../../client/index.ts";
import { CloseCode, parseCloseReason } from "../../protocol/close-codes.ts";
import { type MessageFrame, PING, type WelcomeFrame } from "../../protocol/messages.ts";
import { mintToken, range, seqs, TestClient, uniqueRoom } from "./harness/client.ts";
import { duplicatedIds, fetchHistory, httpPublish } from "./harness/resuming-peer.ts";
import { DevServer } from "./harness/server.ts";

/** Budget for a close the room sends outside a socket event (see the quirk above). */
const LATE_CLOSE_MS = 30_000;
/** Small, so each test's reconnects are quick; the policy itself is unit-tested with fake timers. */
const FAST_BACKOFF = { base: 100, cap: 1_000 };

/**
 * A `WebSocket` for the SDK that wraps `ws` and lets a test act on the SDK's own sockets: drop
 * its outgoing `ping` and `read` frames (so the server hears nothing), or send a frame the SDK never would.
 */
class Tap {
	readonly sockets: TapSocket[] = [];
	/** Whether socket number `index` (0 = the first one dialed) drops the SDK's pings. */
	dropPingsOn: (index: number) => boolean = () => false;
	readonly WebSocket = makeTapSocket(this);

	/** The socket the SDK dialed last. */
	last(): TapSocket {
		const socket = this.sockets[this.sockets.length - 1];
		if (socket === undefined) throw new Error("the SDK has not dialed yet");
		return socket;
	}
}

interface TapSocket extends WebSocketLike {
	readonly inner: WebSocket;
	readonly pingsDropped: number;
}

function makeTapSocket(tap: Tap): new (url: string, protocols?: string | string[]) => TapSocket {
	return class implements TapSocket {
		readonly inner: WebSocket;
		readonly #dropPings: boolean;
		pingsDropped = 0;

		constructor(url: string, protocols?: string | string[]) {
			this.inner = new WebSocket(url, protocols);
			this.#dropPings = tap.dropPingsOn(tap.sockets.length);
			tap.sockets.push(this);
		}

		get readyState(): number {
			return this.inner.readyState;
		}

		send(data: string): void {
			// A silent socket's keep-alives never arrive: its pings, and its `read` frames (which
			// are frames too, so the room would rightly count them as signs of life).
			if (this.#dropPings && (data === PING || data.startsWith('{"type":"read"'))) {
				if (data === PING) this.pingsDropped++;
				return;
			}
			this.inner.send(data);
		}

		close(code?: number, reason?: string): void {
			this.inner.close(code, reason);
		}

		addEventListener(type: "message" | "close" | "open" | "error", listener: (event: never) => void): void {
			this.inner.addEventListener(type, listener as () => void);
		}
	};
}

/** Everything an SDK room emitted, with event-driven waits that carry a deadline and a diagnostic. */
class Probe {
	readonly messages: MessageFrame[] = [];
	readonly welcomes: WelcomeFrame[] = [];
	readonly closes: Array<RoomCloseEvent & { at: number }> = [];
	/** Dials that ended before their welcome (one `close` covers the open socket; these the retries). */
	readonly dialsFailed: DialFailedEvent[] = [];
	readonly errors: RoomErrorEvent[] = [];
	readonly states: RoomState[];
	private readonly checks = new Set<() => void>();

	constructor(
		readonly room: Room,
		readonly label: string,
	) {
		this.states = [room.state];
		const changed = () => {
			for (const check of [...this.checks]) check();
		};
		room.on("message", (m) => {
			this.messages.push(m);
			changed();
		});
		room.on("welcome", (w) => {
			this.welcomes.push(w);
			changed();
		});
		room.on("close", (c) => {
			this.closes.push({ ...c, at: performance.now() });
			changed();
		});
		room.on("dial_failed", (d) => {
			this.dialsFailed.push(d);
			changed();
		});
		room.on("error", (e) => {
			this.errors.push(e);
			changed();
		});
		room.on("state", ({ to }) => {
			this.states.push(to);
			changed();
		});
	}

	/** Resolves once `check()` holds (re-checked on every SDK event), or rejects at the deadline. */
	until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
		if (check()) return Promise.resolve();
		return new Promise((res, rej) => {
			const timer = setTimeout(() => {
				this.checks.delete(probe);
				rej(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}; ${this.describe()}`));
			}, timeoutMs);
			const probe = () => {
				if (!check()) return;
				clearTimeout(timer);
				this.checks.delete(probe);
				res();
			};
			this.checks.add(probe);
		});
	}

	welcomed(count: number, timeoutMs = 15_000): Promise<WelcomeFrame> {
		return this.until(() => this.welcomes.length >= count, timeoutMs, `welcome #${count}`).then(() => this.welcomes[count - 1] as WelcomeFrame);
	}

	closed(count: number, timeoutMs = LATE_CLOSE_MS): Promise<RoomCloseEvent & { at: number }> {
		return this.until(() => this.closes.length >= count, timeoutMs, `close event #${count}`).then(
			() => this.closes[count - 1] as RoomCloseEvent & { at: number },
		);
	}

	caughtUp(seq: number, timeoutMs = 15_000): Promise<void> {
		return this.until(() => this.room.lastSeq >= seq, timeoutMs, `lastSeq ${seq}`);
	}

	describe(): string {
		const closes = this.closes.map((c) => ({ code: c.code, reason: c.reason, willReconnect: c.willReconnect }));
		const welcomes = this.welcomes.map((w) => ({ resumed: w.resumed, seq: w.seq, replayed: w.replayed, gap: w.gap }));
		return `state ${this.room.state}, lastSeq ${this.room.lastSeq}, states ${JSON.stringify(this.states)}, closes ${JSON.stringify(closes)}, errors ${JSON.stringify(this.errors)}, welcomes ${JSON.stringify(welcomes)}, seqs ${JSON.stringify(seqs(this.messages))}`;
	}
}

/** A room in its own namespace, a writer publishing over HTTP, and helpers to check delivery. */
async function scene(server: DevServer, prefix: string, expect: ExpectStatic) {
	const room = uniqueRoom(prefix);
	const writer = await mintToken("writer", [room]);
	let n = 0;
	return {
		room,
		/** Publishes over HTTP (a second sub), returning the stored seq. */
		publish: (tag: string) => httpPublish(server.url, room, writer, { tag }, `${tag}-${++n}`),
		/** The SDK delivered the room's whole log: 1..head, each once, in order, equal to history. */
		async assertDeliveredOnce(probe: Probe): Promise<number> {
			const history = await fetchHistory(server.url, room, writer);
			await probe.caughtUp(history.seq);
			expect(seqs(probe.messages), probe.describe()).toEqual(range(1, history.seq));
			expect(probe.messages).toEqual(history.messages);
			expect(duplicatedIds(history.messages)).toEqual({});
			return history.seq;
		},
		/** After a recoverable close: the SDK resumes `first`'s session with no gap, publishes again, and delivered the whole log once, without an error. */
		async assertResumed(probe: Probe, first: WelcomeFrame): Promise<void> {
			const back = await probe.welcomed(2);
			expect(back).toMatchObject({ resumed: true, session: first.session, gap: false });
			expect(await probe.room.publish({ after: true })).toMatchObject({ dup: false });
			await this.assertDeliveredOnce(probe);
			expect(probe.states).toEqual(["connecting", "open", "reconnecting", "open"]);
			expect(probe.errors).toEqual([]);
		},
		/** After a final close: the SDK closed with `code`, went to `closed` for good and surfaced `errorCode`. */
		async assertStopped(probe: Probe, code: number, errorCode: string): Promise<void> {
			const close = await probe.closed(1);
			expect(close).toMatchObject({ code, willReconnect: false });
			expect(probe.room.state).toBe("closed");
			expect(probe.states).toEqual(["connecting", "open", "closed"]);
			expect(probe.errors).toEqual([expect.objectContaining({ code: errorCode, closeCode: code })]);
		},
	};
}

function sdk(base: string, room: string, token: Parameters<typeof connect>[0]["token"], tap = new Tap()): { probe: Probe; tap: Tap } {
	const roomConn = connect({ url: base, room, token, WebSocket: tap.WebSocket, backoff: FAST_BACKOFF, connectTimeout: 5_000 });
	return { probe: new Probe(roomConn, room), tap };
}

async function rejection(promise: Promise<unknown>): Promise<BatonError> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof BatonError) return error;
		throw error;
	}
	throw new Error("expected the promise to reject");
}

async function closesCounted(server: DevServer, room: string): Promise<Record<string, number>> {
	const stats = await server.admin("GET", `/v1/admin/rooms/${room}/stats`);
	return (stats.body as { closes: Record<string, number> }).closes;
}

describe("SDK reactions to close codes, against a real server", () => {
	/** Default liveness timings (so the SDK waits for late close events instead of timing out), small frames. */
	let server: DevServer;
	/** Heartbeat 1 s / 3 s, for 4008. */
	let brisk: DevServer;

	beforeAll(async () => {
		[server, brisk] = await Promise.all([
			DevServer.start({ vars: { MAX_MESSAGE_BYTES: "2048" } }),
			DevServer.start({ vars: { HEARTBEAT_INTERVAL_MS: "1000", HEARTBEAT_TIMEOUT_MS: "3000" } }),
		]);
	});
	afterAll(async () => {
		await Promise.all([server?.stop(), brisk?.stop()]);
	});

	// Independent rooms, so these run side by side: most of their time is spent waiting for a
	// lingering TCP close (the quirk above), not working.
	describe.concurrent("each code, caused for real", () => {
		it("1012 drain: reconnects after retryIn, resumes the session, and delivers what was published meanwhile once", async ({ expect }) => {
			const s = await scene(server, "sdk-1012", expect);
			const { probe } = sdk(server.url, s.room, await mintToken("ann", [s.room]));
			try {
				const first = await probe.welcomed(1);
				expect(first).toMatchObject({ resumed: false });
				await s.publish("before");
				expect(await probe.room.publish({ mine: 1 }, { id: "mine-1" })).toEqual({ seq: 2, dup: false });

				expect((await server.admin("POST", `/v1/admin/rooms/${s.room}/drain`)).body).toEqual({ closed: 1 });
				await s.publish("away");
				// Made while the old socket is draining: sent after the resume, acked once.
				const offline = probe.room.publish({ mine: 2 }, { id: "mine-2" });
				const close = await probe.closed(1);
				expect(close).toMatchObject({ code: CloseCode.ServiceRestart, willReconnect: true });
				const retryIn = parseCloseReason(close.reason).retryIn;
				expect(retryIn, close.reason).toBeTypeOf("number");
				expect(probe.room.state).toBe("reconnecting");

				const back = await probe.welcomed(2);
				const waited = performance.now() - close.at;
				expect(waited, "the SDK waited retryIn before redialing").toBeGreaterThanOrEqual((retryIn ?? 0) - 5);
				expect(back).toMatchObject({ resumed: true, session: first.session, gap: false });
				expect(await offline).toMatchObject({ dup: false });
				await s.publish("after");
				await s.assertDeliveredOnce(probe);
				expect(probe.states).toEqual(["connecting", "open", "reconnecting", "open"]);
				expect(probe.errors).toEqual([]);
			} finally {
				probe.room.close();
			}
		});

		it("4008 heartbeat timeout: a socket whose pings never reach the server is closed by it, and the SDK resumes", async ({ expect }) => {
			const s = await scene(brisk, "sdk-4008", expect);
			const tap = new Tap();
			// Only the first socket is silent; the resumed one pings normally.
			tap.dropPingsOn = (index) => index === 0;
			const { probe } = sdk(brisk.url, s.room, await mintToken("ben", [s.room]), tap);
			try {
				const first = await probe.welcomed(1);
				expect(first.heartbeat).toEqual({ interval: 1000, timeout: 3000 });
				// Traffic from another sub keeps the SDK hearing frames (its own 3 s deadline stays quiet),
				// while its pings are dropped: only the server can see the silence.
				let publishing = true;
				const traffic = (async () => {
					while (publishing) {
						await s.publish("traffic");
						await new Promise((r) => setTimeout(r, 200));
					}
				})();
				let close: RoomCloseEvent;
				try {
					close = await probe.closed(1);
				} finally {
					publishing = false;
					await traffic;
				}
				// The event comes either from the server's close frame or, when the TCP close lags (quirk
				// above), from the SDK's own deadline once frames stop: 4008 in both cases.
				expect(close).toMatchObject({ code: CloseCode.HeartbeatTimeout, willReconnect: true });
				expect(tap.sockets[0]?.pingsDropped).toBeGreaterThan(0);
				const closes = await closesCounted(brisk, s.room);
				expect(closes[String(CloseCode.HeartbeatTimeout)], JSON.stringify(closes)).toBe(1);

				await s.assertResumed(probe, first);
			} finally {
				probe.room.close();
			}
		});

		it("4001 expired token: the SDK asks the token function again and resumes the session", async ({ expect }) => {
			const s = await scene(server, "sdk-4001", expect);
			const issued: number[] = [];
			// The first token lives 1 s (+5 s clock leeway on the server); the next one an hour.
			const token = async () => {
				issued.push(Date.now());
				return mintToken("cat", [s.room], { ttl: issued.length === 1 ? 1 : 3600 });
			};
			const { probe } = sdk(server.url, s.room, token);
			try {
				const first = await probe.welcomed(1);
				expect(issued).toHaveLength(1);
				await s.publish("before");
				const close = await probe.closed(1);
				expect(close).toMatchObject({ code: CloseCode.Unauthorized, willReconnect: true });
				expect(parseCloseReason(close.reason).code).toBe("unauthorized");
				await s.publish("away");

				await s.assertResumed(probe, first);
				expect(issued).toHaveLength(2);
			} finally {
				probe.room.close();
			}
		});

		it("1009 message too big: that publish rejects with too_large, the SDK resumes, and the publishes around it are stored once", async ({ expect }) => {
			const s = await scene(server, "sdk-1009", expect);
			const { probe } = sdk(server.url, s.room, await mintToken("dan", [s.room]));
			try {
				const first = await probe.welcomed(1);
				expect(await probe.room.publish({ n: 1 }, { id: "small-1" })).toEqual({ seq: 1, dup: false });
				const big = probe.room.publish({ blob: "x".repeat(4096) }, { id: "big" });
				// Sent right behind the big frame on the same socket, which the server has closed by then.
				const behind = probe.room.publish({ n: 2 }, { id: "small-2" });

				const error = await rejection(big);
				expect(error).toMatchObject({ code: "too_large", closeCode: CloseCode.MessageTooBig });
				const close = await probe.closed(1);
				expect(close).toMatchObject({ code: CloseCode.MessageTooBig, willReconnect: true });
				const back = await probe.welcomed(2);
				expect(back).toMatchObject({ resumed: true, session: first.session });
				expect(await behind).toEqual({ seq: 2, dup: false });
				expect(await probe.room.publish({ n: 3 }, { id: "small-3" })).toEqual({ seq: 3, dup: false });

				await s.assertDeliveredOnce(probe);
				expect(probe.messages.map((m) => m.id)).toEqual(["small-1", "small-2", "small-3"]);
				expect(probe.room.state).toBe("open");
				expect(probe.errors).toEqual([]);
			} finally {
				probe.room.close();
			}
		});

		it("1003 binary frame: the SDK stops, surfaces an error and rejects what is pending", async ({ expect }) => {
			const s = await scene(server, "sdk-1003", expect);
			const { probe, tap } = sdk(server.url, s.room, await mintToken("eve", [s.room]));
			try {
				await probe.welcomed(1);
				tap.last().inner.send(Buffer.from([0x62, 0x61, 0x74, 0x6f, 0x6e]));
				const pending = probe.room.publish({ late: true }, { id: "late" });

				// The server's reason names the error (`bad_message`); the close code says it was 1003.
				await s.assertStopped(probe, CloseCode.UnsupportedData, "bad_message");
				expect(await rejection(pending)).toMatchObject({ closeCode: CloseCode.UnsupportedData });
				expect(await rejection(probe.room.publish({ again: true }))).toMatchObject({ code: "closed" });
				// Closed for good: every timer is cleared, so no later dial can happen.
				expect(tap.sockets).toHaveLength(1);
				const closes = await closesCounted(server, s.room);
				expect(closes[String(CloseCode.UnsupportedData)], JSON.stringify(closes)).toBe(1);
			} finally {
				probe.room.close();
			}
		});

		it("4003 kick: the SDK stops with a forbidden error and does not reconnect", async ({ expect }) => {
			const s = await scene(server, "sdk-4003", expect);
			const { probe, tap } = sdk(server.url, s.room, await mintToken("fay", [s.room]));
			try {
				await probe.welcomed(1);
				expect((await server.admin("POST", `/v1/admin/rooms/${s.room}/kick`, { sub: "fay" })).body).toEqual({ closed: 1 });

				await s.assertStopped(probe, CloseCode.Forbidden, "forbidden");
				expect(tap.sockets).toHaveLength(1);
			} finally {
				probe.room.close();
			}
		});

		it("4011 session replaced: when another connection resumes the SDK's session, the SDK stops and the newer one carries on", async ({ expect }) => {
			const s = await scene(server, "sdk-4011", expect);
			const token = await mintToken("gus", [s.room]);
			const { probe, tap } = sdk(server.url, s.room, token);
			const welcome = await probe.welcomed(1);
			await s.publish("before");
			await probe.caughtUp(1);

			const { client: newer, welcome: taken } = await TestClient.connect(server.wsUrl, s.room, token, { resume: welcome.resume, after: 1 }, "newer");
			try {
				expect(taken).toMatchObject({ resumed: true, session: welcome.session });
				const close = await probe.closed(1);
				expect(close).toMatchObject({ code: CloseCode.SessionReplaced, willReconnect: false });
				expect(probe.room.state).toBe("closed");
				expect(probe.errors).toEqual([expect.objectContaining({ code: "session_replaced", closeCode: CloseCode.SessionReplaced })]);
				expect(tap.sockets).toHaveLength(1);
				expect(await newer.publish("newer-1", { still: "here" })).toMatchObject({ type: "ack", seq: 2, dup: false });
			} finally {
				probe.room.close();
				await newer.close();
			}
		});
	});

	// After the others (it restarts the server), alone.
	describe("a crash", () => {
		it("1006 crash: after a SIGKILL the SDK retries with backoff until the server is back, then resumes with no gap", async ({ expect }) => {
			const s = await scene(server, "sdk-1006", expect);
			const { probe, tap } = sdk(server.url, s.room, await mintToken("hal", [s.room]));
			try {
				const first = await probe.welcomed(1);
				await s.publish("before");
				expect(await probe.room.publish({ mine: 1 })).toEqual({ seq: 2, dup: false });
				await probe.caughtUp(2);

				await server.kill();
				const lost = await probe.closed(1, 10_000);
				expect(lost).toMatchObject({ code: CloseCode.Abnormal, willReconnect: true });
				expect(probe.room.state).toBe("reconnecting");
				// Refused dials while the process is down are each reported (dial_failed, not close), and each is retried.
				await probe.until(() => probe.dialsFailed.length >= 2, 15_000, "two refused dials");
				const offline = probe.room.publish({ mine: 2 });

				await server.restart();
				const back = await probe.welcomed(2, 20_000);
				expect(back).toMatchObject({ resumed: true, session: first.session, gap: false, seq: 2 });
				expect(await offline).toEqual({ seq: 3, dup: false });
				await s.publish("after");
				await s.assertDeliveredOnce(probe);
				// One close for the one open socket the crash ended; the retries are dial_failed events.
				expect(probe.closes).toEqual([expect.objectContaining({ code: CloseCode.Abnormal, willReconnect: true, opened: true })]);
				expect(probe.dialsFailed.every((d) => d.code === CloseCode.Abnormal)).toBe(true);
				expect(tap.sockets.length).toBe(probe.dialsFailed.length + 2);
				expect(probe.states).toEqual(["connecting", "open", "reconnecting", "open"]);
			} finally {
				probe.room.close();
			}
		});
	});
});
