/**
 * Publishing while the server is down (CONTRACT.md §10: "buffered while offline; exactly once"):
 * `wrangler dev` is SIGKILLed, the app publishes 100 messages while the SDK keeps redialing, and
 * after the restart (same port, same persisted storage) every one of them is acked exactly once,
 * stored once, in the order the app called `publish()` — with the server's default rate limit,
 * which a burst of 100 overruns, so the SDK's flow control is part of what is checked: its window
 * and pacing after a `rate_limited` refusal keep it clear of the 4009 close.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connect, type PublishResult } from "../../client/index.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import type { MessageFrame } from "../../protocol/messages.ts";
import { mintToken, range, seqs, uniqueRoom } from "./harness/client.ts";
import { duplicatedIds, fetchHistory } from "./harness/resuming-peer.ts";
import { DevServer } from "./harness/server.ts";

const OFFLINE_PUBLISHES = 100;

/** Resolves once `check()` holds, polled on each SDK event via `subscribe`, or rejects at the deadline. */
function until(subscribe: (wake: () => void) => () => void, check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
	if (check()) return Promise.resolve();
	return new Promise((res, rej) => {
		const timer = setTimeout(() => {
			off();
			rej(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`));
		}, timeoutMs);
		const off = subscribe(() => {
			if (!check()) return;
			clearTimeout(timer);
			off();
			res();
		});
	});
}

describe("publishing while the server is down", () => {
	let server: DevServer;
	beforeAll(async () => {
		server = await DevServer.start();
	});
	afterAll(async () => {
		await server?.stop();
	});

	it("100 publishes made while the SDK is reconnecting are each acked and stored exactly once, in call order, after a restart", async () => {
		const room = uniqueRoom("sdk-offline");
		const token = await mintToken("olive", [room]);
		const sdk = connect({ url: server.url, room, token, WebSocket, backoff: { base: 100, cap: 1_000 } });
		const messages: MessageFrame[] = [];
		const closes: number[] = [];
		const states: string[] = [sdk.state];
		let welcomes = 0;
		const wakers = new Set<() => void>();
		const wake = () => {
			for (const w of [...wakers]) w();
		};
		sdk.on("message", (m) => {
			messages.push(m);
			wake();
		});
		sdk.on("welcome", () => {
			welcomes++;
			wake();
		});
		sdk.on("close", (c) => {
			closes.push(c.code);
			wake();
		});
		sdk.on("state", ({ to }) => {
			states.push(to);
			wake();
		});
		const subscribe = (w: () => void) => {
			wakers.add(w);
			return () => wakers.delete(w);
		};
		const describeSdk = () =>
			`state ${sdk.state}, states ${JSON.stringify(states)}, welcomes ${welcomes}, closes ${JSON.stringify(closes)}, pending ${sdk.pendingPublishes}, lastSeq ${sdk.lastSeq}`;

		try {
			await until(
				subscribe,
				() => welcomes === 1,
				15_000,
				() => `the first welcome (${describeSdk()})`,
			);
			expect(await sdk.publish({ n: 0 }, { id: "online-0" })).toEqual({ seq: 1, dup: false });

			await server.kill();
			await until(
				subscribe,
				() => sdk.state === "reconnecting",
				10_000,
				() => `reconnecting after the kill (${describeSdk()})`,
			);
			expect(closes[0]).toBe(CloseCode.Abnormal);

			const settled: Array<PublishResult | Error> = [];
			const publishes = range(1, OFFLINE_PUBLISHES).map((i) =>
				sdk.publish({ n: i }, { id: `offline-${i}` }).then(
					(r) => {
						settled.push(r);
						return r;
					},
					(e: unknown) => {
						settled.push(e instanceof Error ? e : new Error(String(e)));
						throw e;
					},
				),
			);
			expect(sdk.pendingPublishes).toBe(OFFLINE_PUBLISHES);
			expect(sdk.state).toBe("reconnecting");

			await server.restart();
			const restartedAt = performance.now();
			const results = await Promise.race([
				Promise.all(publishes),
				new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`not all acked within 60 s: ${settled.length} settled; ${describeSdk()}`)), 60_000)),
			]);
			// Each promise settles once; every ack is a first store (nothing was stored before the kill).
			expect(settled).toHaveLength(OFFLINE_PUBLISHES);
			expect(results.filter((r) => r.dup)).toEqual([]);
			// Stored in call order: 2..101, the online publish having taken seq 1.
			expect(results.map((r) => r.seq)).toEqual(range(2, OFFLINE_PUBLISHES + 1));

			const history = await fetchHistory(server.url, room, token);
			expect(history.seq).toBe(OFFLINE_PUBLISHES + 1);
			expect(duplicatedIds(history.messages)).toEqual({});
			expect(history.messages.map((m) => m.id)).toEqual(["online-0", ...range(1, OFFLINE_PUBLISHES).map((i) => `offline-${i}`)]);
			await until(
				subscribe,
				() => sdk.lastSeq >= history.seq,
				15_000,
				() => `delivery up to ${history.seq} (${describeSdk()})`,
			);
			expect(seqs(messages)).toEqual(range(1, history.seq));
			expect(sdk.pendingPublishes).toBe(0);
			expect(sdk.state).toBe("open");
			expect(closes.filter((code) => code === CloseCode.RateLimited)).toEqual([]);
			console.info(
				`${OFFLINE_PUBLISHES} offline publishes all acked ${Math.round(performance.now() - restartedAt)} ms after the restart; closes seen: ${JSON.stringify(closes)}`,
			);
		} finally {
			sdk.close();
		}
	});
});
