/**
 * Multi-region serving (CONTRACT.md §8) on a local cluster: one room host process and a gateway
 * per region (wnam, weur, apac). Rooms are homed where their first connection came in (or where
 * `?region=` says); every gateway serves every room; and when a region's gateway goes down, its
 * clients resume through another region with nothing lost, while rooms homed in every region keep
 * serving through the gateways that remain.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connect, type Room, type RoomEvents } from "../../client/index.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import type { MessageFrame, WelcomeFrame } from "../../protocol/messages.ts";
import { type ConnectOptions, mintToken, range, seqs, TestClient, uniqueRoom } from "./harness/client.ts";
import { CLUSTER_REGIONS, type ClusterRegion, type Endpoint, RegionCluster } from "./harness/cluster.ts";
import { duplicatedIds, fetchHistory, httpPublish } from "./harness/resuming-peer.ts";

/** `GET /v1/rooms/:room` through one gateway. */
async function roomInfo(base: Endpoint, room: string, token: string): Promise<{ room: string; home: string; seq: number }> {
	const res = await fetch(`${base.url}/v1/rooms/${room}`, { headers: { Authorization: `Bearer ${token}` } });
	if (!res.ok) throw new Error(`info of ${room} via ${base.url} answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as { room: string; home: string; seq: number };
}

/**
 * Connects through the first gateway of `endpoints` that accepts the connection, in order — what
 * a client holding a list of regional gateways does. Resolves with the index it got through.
 */
async function connectFirstLive(
	endpoints: Endpoint[],
	room: string,
	token: string,
	opts: ConnectOptions,
	label: string,
): Promise<{ client: TestClient; welcome: WelcomeFrame; via: number; refused: string[] }> {
	const refused: string[] = [];
	for (const [via, endpoint] of endpoints.entries()) {
		try {
			const { client, welcome } = await TestClient.connect(endpoint.wsUrl, room, token, opts, label);
			return { client, welcome, via, refused };
		} catch (err) {
			refused.push(err instanceof Error ? err.message : String(err));
		}
	}
	throw new Error(`${label}: no gateway accepted the connection: ${refused.join("; ")}`);
}

/** The next `type` event of an SDK room, with a deadline and a diagnostic. */
function nextEvent<K extends keyof RoomEvents>(
	room: Room,
	type: K,
	pred: (e: RoomEvents[K]) => boolean = () => true,
	timeoutMs = 15_000,
): Promise<RoomEvents[K]> {
	return new Promise((res, rej) => {
		const timer = setTimeout(() => {
			off();
			rej(new Error(`no ${type} event within ${timeoutMs} ms (state ${room.state}, lastSeq ${room.lastSeq})`));
		}, timeoutMs);
		const off = room.on(type, (e) => {
			if (!pred(e)) return;
			clearTimeout(timer);
			off();
			res(e);
		});
	});
}

/** Resolves when `check()` holds after some SDK message event, or rejects at the deadline. */
function untilMessages(room: Room, check: () => boolean, timeoutMs: number, what: string): Promise<void> {
	if (check()) return Promise.resolve();
	return nextEvent(room, "message", check, timeoutMs).then(
		() => undefined,
		(err: unknown) => {
			throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
		},
	);
}

describe("rooms across regions", () => {
	let cluster: RegionCluster;
	beforeAll(async () => {
		cluster = await RegionCluster.start();
	});
	afterAll(async () => {
		await cluster?.stop();
	});
	// A failover test stops a gateway; the next test gets every region back.
	beforeEach(async () => {
		await cluster.restoreGateways();
	});

	it("every gateway reports its own region and the configured regions", async () => {
		for (const region of CLUSTER_REGIONS) {
			const res = await fetch(`${cluster.gateway(region).url}/v1/regions`);
			expect(res.status).toBe(200);
			expect(await res.json()).toEqual({ self: region, regions: ["wnam", "weur", "apac"] });
			const health = await fetch(`${cluster.gateway(region).url}/healthz`);
			expect(await health.json()).toMatchObject({ ok: true, region });
		}
	});

	it("a new room is homed in its first connection's gateway region, and keeps that home when reached through other regions", async () => {
		const room = uniqueRoom("home-first");
		const token = await mintToken("alice", [room]);
		const first = await TestClient.connect(cluster.gateway("weur").wsUrl, room, token, {}, "via-weur");
		expect(first.welcome).toMatchObject({ home: "weur", region: "weur", seq: 0 });
		await cluster.waitForLog((l) => l.event === "room_homed" && l.room === room, 5_000, "room_homed");
		expect(cluster.logs.filter((l) => l.event === "room_homed" && l.room === room)).toEqual([expect.objectContaining({ home: "weur" })]);

		const viaApac = await TestClient.connect(cluster.gateway("apac").wsUrl, room, token, {}, "via-apac");
		expect(viaApac.welcome).toMatchObject({ home: "weur", region: "apac" });
		// A later ?region= does not re-home an existing room.
		const viaWnam = await TestClient.connect(cluster.gateway("wnam").wsUrl, room, token, { region: "apac" }, "via-wnam");
		expect(viaWnam.welcome).toMatchObject({ home: "weur", region: "wnam" });
		for (const region of CLUSTER_REGIONS) expect((await roomInfo(cluster.gateway(region), room, token)).home, region).toBe("weur");

		// One room, whichever region a client came through: a publish via apac reaches all three.
		expect(await viaApac.client.publish("from-apac", { hi: 1 })).toMatchObject({ type: "ack", seq: 1 });
		for (const c of [first.client, viaApac.client, viaWnam.client]) expect(seqs(await c.waitForMessages(1))).toEqual([1]);
		await Promise.all([first.client, viaApac.client, viaWnam.client].map((c) => c.close()));
	});

	it("?region= on the first connect homes a new room in that region; a region outside the configured ones is refused with 4400", async () => {
		const room = uniqueRoom("home-param");
		const token = await mintToken("bob", [room]);
		const { client, welcome } = await TestClient.connect(cluster.gateway("wnam").wsUrl, room, token, { region: "apac" }, "hinted");
		expect(welcome).toMatchObject({ home: "apac", region: "wnam" });
		expect((await roomInfo(cluster.gateway("weur"), room, token)).home).toBe("apac");
		await client.close();

		for (const region of ["mars", "enam"]) {
			const other = uniqueRoom("home-bad");
			const refused = await TestClient.open(cluster.gateway("wnam").wsUrl, other, await mintToken("bob", [other]), { region }, `region=${region}`);
			const close = await refused.waitClosed(5_000);
			expect(close.code, region).toBe(CloseCode.BadRequest);
			expect(JSON.parse(close.reason)).toEqual({ code: "bad_request" });
			expect(refused.frames, region).toEqual([]);
		}
	});

	it("when a region's gateway dies, its client resumes through the next region with no gap, and rooms homed in every region keep serving", async () => {
		const token = await mintToken("carol", ["*"]);
		// One room homed in each region, all created through wnam with ?region=.
		const homed = new Map<ClusterRegion, string>();
		for (const region of CLUSTER_REGIONS) {
			const room = uniqueRoom(`homed-${region}`);
			const { client, welcome } = await TestClient.connect(cluster.gateway("wnam").wsUrl, room, token, { region }, `create-${region}`);
			expect(welcome.home).toBe(region);
			homed.set(region, room);
			await client.close();
		}

		const room = uniqueRoom("failover");
		const endpoints = CLUSTER_REGIONS.map((r) => cluster.gateway(r));
		const first = await connectFirstLive(endpoints, room, token, {}, "peer@wnam");
		expect(first.via).toBe(0);
		expect(first.welcome).toMatchObject({ home: "wnam", region: "wnam" });
		for (let i = 1; i <= 3; i++) expect(await first.client.publish(`before-${i}`, { i })).toMatchObject({ type: "ack", seq: i });
		await first.client.waitForMessages(3);

		const stoppedAt = performance.now();
		await cluster.stopGateway("wnam");
		expect((await first.client.waitClosed(10_000)).code).toBe(CloseCode.Abnormal);
		await expect(fetch(`${cluster.gateway("wnam").url}/healthz`)).rejects.toThrow();

		// Published through apac while the peer is away.
		const away = [];
		for (let i = 1; i <= 5; i++) away.push(await httpPublish(cluster.gateway("apac").url, room, token, { away: i }, `away-${i}`));
		expect(away).toEqual(range(4, 8));

		const lastSeq = first.client.messages().at(-1)?.seq ?? 0;
		const resumed = await connectFirstLive(endpoints, room, token, { resume: first.welcome.resume, after: lastSeq }, "peer@next");
		const failoverMs = Math.round(performance.now() - stoppedAt);
		expect(resumed.via, resumed.refused.join("; ")).toBe(1);
		expect(resumed.refused).toHaveLength(1);
		expect(resumed.welcome).toMatchObject({ resumed: true, session: first.welcome.session, region: "weur", home: "wnam", seq: 8, replayed: 5, gap: false });
		// The replay comes right after welcome, then live traffic continues through the new region.
		expect(seqs(await resumed.client.waitForMessages(5))).toEqual(range(4, 8));
		expect(await httpPublish(cluster.gateway("apac").url, room, token, { live: true }, "live-1")).toBe(9);
		expect(await resumed.client.publish("after-1", { after: 1 })).toMatchObject({ type: "ack", seq: 10, dup: false });
		const delivered: MessageFrame[] = [...first.client.messages(), ...(await resumed.client.waitForMessages(7))];
		expect(seqs(delivered)).toEqual(range(1, 10));
		expect(resumed.client.frames.slice(1, 6).map((f) => f.type)).toEqual(Array(5).fill("message"));
		for (const via of ["weur", "apac"] as const) {
			const history = await fetchHistory(cluster.gateway(via).url, room, token);
			expect(history.messages).toEqual(delivered);
			expect(duplicatedIds(history.messages)).toEqual({});
		}
		await resumed.client.close();

		// Rooms homed in every region, wnam's included, still serve through the gateways that remain.
		for (const [home, homedRoom] of homed) {
			for (const [i, via] of (["weur", "apac"] as const).entries()) {
				expect(await httpPublish(cluster.gateway(via).url, homedRoom, token, { via }, `via-${via}`), `${home} via ${via}`).toBe(i + 1);
			}
			for (const via of ["weur", "apac"] as const) {
				const history = await fetchHistory(cluster.gateway(via).url, homedRoom, token);
				expect(
					history.messages.map((m) => m.id),
					`${home} via ${via}`,
				).toEqual(["via-weur", "via-apac"]);
				expect((await roomInfo(cluster.gateway(via), homedRoom, token)).home).toBe(home);
			}
			const { client, welcome } = await TestClient.connect(cluster.gateway("apac").wsUrl, homedRoom, token, { after: 0 }, `read-${home}`);
			expect(welcome).toMatchObject({ home, region: "apac", replayed: 2 });
			await client.close();
		}
		console.info(`raw failover: gateway SIGKILL → resumed via weur in ${failoverMs} ms (5 messages published meanwhile, replayed)`);
	});

	it("the SDK with a list of regional endpoints fails over on 1006 to the next region, resumes, and delivers every message once in order", async () => {
		const room = uniqueRoom("sdk-failover");
		const token = await mintToken("dave", [room]);
		const writer = await mintToken("writer", [room]);
		const sdk = connect({
			endpoints: CLUSTER_REGIONS.map((r) => cluster.gateway(r).url),
			room,
			token,
			WebSocket,
			backoff: { base: 50, cap: 500 },
		});
		const messages: MessageFrame[] = [];
		const welcomes: WelcomeFrame[] = [];
		const closes: number[] = [];
		sdk.on("message", (m) => messages.push(m));
		sdk.on("welcome", (w) => welcomes.push(w));
		sdk.on("close", (e) => closes.push(e.code));
		try {
			await nextEvent(sdk, "welcome");
			expect(welcomes[0]).toMatchObject({ region: "wnam", home: "wnam" });
			const acked = await Promise.all([1, 2, 3].map((i) => sdk.publish({ i }, { id: `before-${i}` })));
			expect(acked.map((a) => a.seq).sort()).toEqual([1, 2, 3]);

			const stoppedAt = performance.now();
			const lost = nextEvent(sdk, "close");
			const rejoined = nextEvent(sdk, "welcome", () => true, 20_000);
			await cluster.stopGateway("wnam");
			expect(await lost).toMatchObject({ code: CloseCode.Abnormal, willReconnect: true });
			// While it fails over: a publish of its own (buffered) and five through apac.
			const offline = sdk.publish({ offline: true }, { id: "offline-1" });
			for (let i = 1; i <= 5; i++) await httpPublish(cluster.gateway("apac").url, room, writer, { away: i }, `away-${i}`);
			const back = await rejoined;
			const failoverMs = Math.round(performance.now() - stoppedAt);
			expect(back).toMatchObject({ region: "weur", home: "wnam", resumed: true, session: welcomes[0]?.session });
			expect(await offline).toMatchObject({ dup: false });

			const head = 9;
			await untilMessages(sdk, () => sdk.lastSeq >= head, 15_000, `seq ${head} delivered`);
			expect(seqs(messages)).toEqual(range(1, head));
			expect(sdk.state).toBe("open");
			expect(closes).toEqual([CloseCode.Abnormal]);
			const history = await fetchHistory(cluster.gateway("apac").url, room, writer);
			expect(history.messages).toEqual(messages);
			console.info(`SDK failover: gateway SIGKILL → welcome via weur in ${failoverMs} ms`);
		} finally {
			sdk.close();
		}
	});
});
