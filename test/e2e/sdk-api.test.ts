/**
 * The SDK's app-facing API against a real `wrangler dev` (docs/sdk.md): typed publish and
 * messages, `ready`, publish `signal` (before and after sending), `for await` over
 * `room.messages()`, `maxBuffered`, `publishTimeout` (with the server down, and the message
 * never stored after its promise rejected), `room.history()` paging both ways, and the close
 * codes the SDK sends (4000 when it replaces a socket, 1000 only from `close()`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { BatonError, type ConnectOptions, connect, type MessageFrame, type Room } from "../../client/index.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import { mintToken, range, seqs, uniqueRoom } from "./harness/client.ts";
import { duplicatedIds, fetchHistory } from "./harness/resuming-peer.ts";
import { nextEvent, recordEvents } from "./harness/sdk.ts";
import { DevServer, type LogLine } from "./harness/server.ts";

interface Chat {
	text: string;
	n: number;
}

describe("the SDK's API against wrangler dev", () => {
	let server: DevServer;
	const rooms: Room<unknown>[] = [];

	beforeAll(async () => {
		server = await DevServer.start();
	});
	afterAll(async () => {
		for (const room of rooms) room.close();
		await server?.stop();
	});

	async function open<T>(sub: string, room: string, options: Partial<ConnectOptions> = {}): Promise<Room<T>> {
		const sdk = connect<T>({ url: server.url, room, token: await mintToken(sub, [room]), WebSocket, backoff: { base: 100, cap: 1_000 }, ...options });
		rooms.push(sdk as Room<unknown>);
		await sdk.ready;
		return sdk;
	}

	it("types publish() and message events with connect<T>(), and the data arrives as sent", async () => {
		const room = uniqueRoom("sdk-typed");
		const alice = await open<Chat>("alice", room);
		const bob = await open<Chat>("bob", room);
		const received = nextEvent(bob, "message");
		const { seq, dup } = await alice.publish({ text: "hé", n: 1 });
		// @ts-expect-error: a Room<Chat> takes only Chat data.
		alice.publish({ text: 1 }).catch(() => undefined);
		const message: MessageFrame<Chat> = await received;
		expect({ seq, dup }).toEqual({ seq: 1, dup: false });
		expect(message).toMatchObject({ seq: 1, from: "alice", data: { text: "hé", n: 1 } });
		// Typed access, no casts: a compile error if `data` were unknown.
		expect(message.data.text.toUpperCase()).toBe("HÉ");
	});

	it("publish signal: aborted before sending is never stored; aborted after sending may be stored, once", async () => {
		const room = uniqueRoom("sdk-abort");
		const token = await mintToken("alice", [room]);
		const alice = connect<string>({ url: server.url, room, token, WebSocket });
		rooms.push(alice as Room<unknown>);
		// Queued before the welcome: not sent yet.
		const early = new AbortController();
		const unsent = alice.publish("never", { id: "never", signal: early.signal }).catch((e: unknown) => e);
		early.abort();
		expect(await unsent).toMatchObject({ code: "aborted", maybeStored: false });
		await alice.ready;
		// Sent at once while open; the abort comes after the frame left.
		const late = new AbortController();
		const sent = alice.publish("maybe", { id: "maybe", signal: late.signal }).catch((e: unknown) => e);
		late.abort();
		expect(await sent).toMatchObject({ code: "aborted", maybeStored: true, publishId: "maybe" });
		const marker = await alice.publish("marker", { id: "marker" });
		const history = await fetchHistory(server.url, room, token);
		expect(history.messages.map((m) => m.id)).toEqual(["maybe", "marker"]);
		expect(marker.seq).toBe(2);
		expect(alice.pendingPublishes).toBe(0);
	});

	it("for await over room.messages() yields 20 messages in order and ends when the room is closed", async () => {
		const room = uniqueRoom("sdk-iter");
		const reader = await open<number>("reader", room);
		const writer = await open<number>("writer", room);
		const seen: number[] = [];
		const loop = (async () => {
			for await (const m of reader.messages()) {
				seen.push(m.data);
				if (seen.length === 20) reader.close();
			}
			return "ended";
		})();
		await Promise.all(range(1, 20).map((n) => writer.publish(n)));
		expect(await loop).toBe("ended");
		expect(seen).toEqual(range(1, 20));
	});

	it("maxBuffered refuses the publish beyond it with outbox_full, and the others are stored once", async () => {
		const room = uniqueRoom("sdk-maxbuf");
		const token = await mintToken("alice", [room]);
		const alice = connect<number>({ url: server.url, room, token, WebSocket, maxBuffered: 3 });
		rooms.push(alice as Room<unknown>);
		// Before the welcome all of them wait in the outbox.
		const accepted = [1, 2, 3].map((n) => alice.publish(n));
		const refused = await alice.publish(4).catch((e: unknown) => e);
		expect(refused).toBeInstanceOf(BatonError);
		expect(refused).toMatchObject({ code: "outbox_full", maybeStored: false });
		expect((await Promise.all(accepted)).map((r) => r.seq)).toEqual([1, 2, 3]);
		const history = await fetchHistory(server.url, room, token);
		expect(history.messages.map((m) => m.data)).toEqual([1, 2, 3]);
	});

	it("history() pages back from the newest message to the first, and forward with after", async () => {
		const room = uniqueRoom("sdk-history");
		const alice = await open<number>("alice", room);
		for (const n of range(1, 25)) await alice.publish(n);
		const pages: number[][] = [];
		let page = await alice.history({ limit: 10 });
		pages.push(seqs(page.messages));
		while (page.hasMore) {
			const first = page.messages[0];
			if (first === undefined) break;
			page = await alice.history({ before: first.seq, limit: 10 });
			pages.push(seqs(page.messages));
		}
		expect(pages).toEqual([range(16, 25), range(6, 15), range(1, 5)]);
		expect(page).toMatchObject({ seq: 25, oldest: 1, hasMore: false });
		const forward = await alice.history({ after: 20, limit: 10 });
		expect(forward.messages.map((m) => m.data)).toEqual(range(21, 25));
		expect(forward.hasMore).toBe(false);
		// A reader that joined later, with no lastSeq of its own, gets the same newest page.
		const late = await open<number>("late", room);
		expect(seqs((await late.history({ limit: 5 })).messages)).toEqual(range(21, 25));
		await expect(alice.history({ limit: 501 })).rejects.toMatchObject({ code: "bad_request" });
	});

	it("closes a socket it replaces with 4000, and with 1000 only on close()", async () => {
		const room = uniqueRoom("sdk-goodbye");
		// The codes the SDK itself closes its sockets with, as it calls close(): on `reconnect()`
		// the new socket may reach the room before the old one's close frame does, and then the
		// room closes the old one 4011 first, so the server cannot always see that 4000.
		const sent: (number | undefined)[] = [];
		class RecordingWebSocket extends WebSocket {
			override close(code?: number, reason?: string | Buffer): void {
				// Not ws's own call that answers the peer's close frame (the socket is closing then).
				if (this.readyState === WebSocket.CONNECTING || this.readyState === WebSocket.OPEN) sent.push(code);
				super.close(code, reason);
			}
		}
		const alice = await open("alice", room, { WebSocket: RecordingWebSocket });
		const session = (await alice.ready).session;
		// A disconnect line of this session with `code` for a close from now on (the room's `ts` is
		// the same clock): an earlier line may still be on its way through wrangler's output.
		const disconnect = (code: number) => {
			const from = Date.now();
			const match = (l: LogLine) => l.event === "disconnect" && l.session === session && l.code === code && Number(l.ts) >= from;
			return server.waitForLog(match, 15_000, `disconnect ${code} of ${session}`);
		};
		alice.reconnect();
		expect(sent).toEqual([CloseCode.ClientReconnect]);
		await nextEvent(alice, "welcome", (w) => w.resumed);
		// Nothing races a suspend: the room sees the 4000 itself.
		const suspended = disconnect(CloseCode.ClientReconnect);
		alice.suspend();
		await suspended;
		expect(sent).toEqual([CloseCode.ClientReconnect, CloseCode.ClientReconnect]);
		alice.resume();
		await nextEvent(alice, "welcome", (w) => w.resumed);
		const normal = disconnect(CloseCode.Normal);
		alice.close();
		await normal;
		expect(sent).toEqual([CloseCode.ClientReconnect, CloseCode.ClientReconnect, CloseCode.Normal]);
	});

	describe("with the server down", () => {
		it("publishTimeout rejects a publish the server never got, and it is not stored after the restart", async () => {
			const room = uniqueRoom("sdk-timeout");
			const token = await mintToken("alice", [room]);
			const alice = connect<string>({ url: server.url, room, token, WebSocket, backoff: { base: 100, cap: 500 }, publishTimeout: 1_500 });
			rooms.push(alice as Room<unknown>);
			await alice.ready;
			const closes = recordEvents(alice, "close");
			const down = nextEvent(alice, "close");
			await server.kill();
			await down;
			const started = Date.now();
			const error = await alice.publish("lost", { id: "lost" }).catch((e: unknown) => e);
			const waited = Date.now() - started;
			expect(error).toMatchObject({ code: "publish_timeout", maybeStored: false, publishId: "lost" });
			expect(waited).toBeGreaterThanOrEqual(1_490);
			const back = nextEvent(alice, "welcome", () => true, 60_000, "the welcome after the restart");
			await server.restart();
			await back;
			const kept = await alice.publish("kept", { id: "kept" });
			const history = await fetchHistory(server.url, room, token);
			expect(history.messages.map((m) => m.id)).toEqual(["kept"]);
			expect(duplicatedIds(history.messages)).toEqual({});
			expect(kept.seq).toBe(1);
			expect(closes.map((c) => c.code)).toEqual([CloseCode.Abnormal]);
		});
	});
});
