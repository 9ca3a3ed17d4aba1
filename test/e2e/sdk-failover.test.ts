/**
 * Region failover through the SDK's `endpoints` list (CONTRACT.md §8, §10) on a local cluster:
 * one room host and a gateway per region (wnam, weur). When the gateway the SDK is connected
 * through dies (1006), the SDK dials the next endpoint, resumes its session there, and delivers
 * what was published meanwhile exactly once and in order; its own offline publish is stored once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connect, type Room, type RoomEvents, type WebSocketLike } from "../../client/index.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import type { MessageFrame, WelcomeFrame } from "../../protocol/messages.ts";
import { mintToken, range, seqs, uniqueRoom } from "./harness/client.ts";
import { RegionCluster } from "./harness/cluster.ts";
import { duplicatedIds, fetchHistory, httpPublish } from "./harness/resuming-peer.ts";

/** Messages published through the surviving region while the SDK fails over. */
const AWAY = 5;

/** The first `type` event matching `pred` from now on, with a deadline and a diagnostic. */
function nextEvent<K extends keyof RoomEvents>(room: Room, type: K, timeoutMs: number, describe: () => string): Promise<RoomEvents[K]> {
	return new Promise((res, rej) => {
		const timer = setTimeout(() => {
			off();
			rej(new Error(`no ${type} event within ${timeoutMs} ms; ${describe()}`));
		}, timeoutMs);
		const off = room.on(type, (e) => {
			clearTimeout(timer);
			off();
			res(e);
		});
	});
}

type Listener = (event: never) => void;

/**
 * A `ws` constructor whose dials wait until `gate()` resolves before they reach the network, so a
 * test can publish while the SDK is provably away. Listeners added before then are attached later.
 */
function gatedWebSocket(gate: () => Promise<void>): new (url: string, protocols?: string | string[]) => WebSocketLike {
	return class implements WebSocketLike {
		#inner: WebSocket | null = null;
		#abandoned = false;
		readonly #listeners: Array<["message" | "close" | "open" | "error", Listener]> = [];

		constructor(url: string, protocols?: string | string[]) {
			void gate().then(() => {
				if (this.#abandoned) return;
				const inner = new WebSocket(url, protocols);
				for (const [type, listener] of this.#listeners) inner.addEventListener(type, listener as () => void);
				this.#inner = inner;
			});
		}

		get readyState(): number {
			return this.#inner?.readyState ?? (this.#abandoned ? 3 : 0);
		}

		send(data: string): void {
			this.#inner?.send(data);
		}

		close(code?: number, reason?: string): void {
			if (this.#inner === null) this.#abandoned = true;
			else this.#inner.close(code, reason);
		}

		addEventListener(type: "message" | "close" | "open" | "error", listener: Listener): void {
			this.#listeners.push([type, listener]);
			this.#inner?.addEventListener(type, listener as () => void);
		}
	};
}

describe("SDK failover across regional gateways", () => {
	let cluster: RegionCluster;
	beforeAll(async () => {
		cluster = await RegionCluster.start({ regions: ["wnam", "weur"] });
	});
	afterAll(async () => {
		await cluster?.stop();
	});

	it("resumes through the next endpoint when its gateway dies, with nothing lost or duplicated", async () => {
		const room = uniqueRoom("sdk-failover");
		const writer = await mintToken("writer", [room]);
		const wnam = cluster.gateway("wnam");
		const weur = cluster.gateway("weur");
		let gate = Promise.resolve();
		const sdk = connect({
			endpoints: [wnam.url, weur.url],
			room,
			token: await mintToken("ivy", [room]),
			WebSocket: gatedWebSocket(() => gate),
			backoff: { base: 50, cap: 500 },
		});
		const messages: MessageFrame[] = [];
		const welcomes: WelcomeFrame[] = [];
		const closes: Array<{ code: number; willReconnect: boolean }> = [];
		sdk.on("message", (m) => messages.push(m));
		sdk.on("welcome", (w) => welcomes.push(w));
		sdk.on("close", ({ code, willReconnect }) => closes.push({ code, willReconnect }));
		const describeSdk = () =>
			`state ${sdk.state}, lastSeq ${sdk.lastSeq}, closes ${JSON.stringify(closes)}, welcomes ${JSON.stringify(welcomes.map((w) => ({ region: w.region, resumed: w.resumed })))}; ${cluster.output().slice(-1500)}`;
		const caughtUp = async (seq: number) => {
			while (sdk.lastSeq < seq) await nextEvent(sdk, "message", 15_000, () => `waiting for seq ${seq}: ${describeSdk()}`);
		};

		try {
			const first = await nextEvent(sdk, "welcome", 15_000, describeSdk);
			expect(first).toMatchObject({ region: "wnam", home: "wnam", resumed: false });
			await httpPublish(weur.url, room, writer, { before: 1 }, "before-1");
			expect(await sdk.publish({ mine: 1 }, { id: "mine-1" })).toEqual({ seq: 2, dup: false });
			await caughtUp(2);

			// wnam goes down: the SDK is cut (1006) and dials weur — held at the gate until the others
			// have published through weur, so those messages provably come back as a replay.
			let openGate = () => {};
			gate = new Promise((res) => {
				openGate = res;
			});
			const viaWeur = nextEvent(sdk, "welcome", 30_000, describeSdk);
			await cluster.stopGateway("wnam");
			const offline = sdk.publish({ mine: 2 }, { id: "mine-2" });
			for (let i = 1; i <= AWAY; i++) await httpPublish(weur.url, room, writer, { away: i }, `away-${i}`);
			openGate();
			const second = await viaWeur;
			expect(closes[0]).toEqual({ code: CloseCode.Abnormal, willReconnect: true });
			expect(second).toMatchObject({ region: "weur", home: "wnam", resumed: true, session: first.session, gap: false, seq: 2 + AWAY, replayed: AWAY });
			expect(await offline).toMatchObject({ dup: false });
			const headAfterFailover = 2 + AWAY + 1;
			await caughtUp(headAfterFailover);
			expect(seqs(messages)).toEqual(range(1, headAfterFailover));

			expect(await sdk.publish({ mine: 3 }, { id: "mine-3" })).toMatchObject({ dup: false });

			const history = await fetchHistory(weur.url, room, writer);
			await caughtUp(history.seq);
			expect(seqs(messages)).toEqual(range(1, history.seq));
			expect(messages).toEqual(history.messages);
			expect(duplicatedIds(history.messages)).toEqual({});
			expect(history.messages.filter((m) => m.id.startsWith("mine-")).map((m) => m.id)).toEqual(["mine-1", "mine-2", "mine-3"]);
			expect(closes.every((c) => c.code === CloseCode.Abnormal && c.willReconnect)).toBe(true);
			expect(sdk.state).toBe("open");
		} finally {
			sdk.close();
		}
	});
});
