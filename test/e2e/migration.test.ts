/**
 * Live migration of a room's home (CONTRACT.md §8) on a local multi-region cluster: one room
 * host process and a gateway per region. Under load from two regions the room moves twice; its
 * clients get 4010, resume at once through their own gateway, re-send what was refused with
 * `room_moving`, and end with the whole gapless seq range exactly once. A crash of the room host
 * between copy and flip rolls the migration back: the room serves from one home, unfrozen, with
 * every acked message, and can be migrated again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloseCode, parseCloseReason } from "../../protocol/close-codes.ts";
import type { MessageFrame } from "../../protocol/messages.ts";
import { mintToken, range, seqs, uniqueRoom } from "./harness/client.ts";
import { type ClusterRegion, RegionCluster } from "./harness/cluster.ts";
import { duplicatedIds, fetchHistory, httpPublish, publishSteadily, ResumingPeer, type SteadyPublisher } from "./harness/resuming-peer.ts";

/** Rate limits out of the way: these tests are about migration, not throttling. */
const VARS = { RATE_LIMIT_PER_SEC: "500", RATE_LIMIT_BURST: "1000" };
const FAULT_PAUSE_MS = 30_000;

interface MigrateAnswer {
	from: string;
	to: string;
	seq: number;
	moved: number;
}

/** `POST /v1/admin/rooms/:room/migrate` through `via`, timed. */
async function migrate(cluster: RegionCluster, room: string, to: string, via: ClusterRegion): Promise<{ status: number; body: unknown; ms: number }> {
	const start = performance.now();
	const res = await cluster.admin("POST", `/v1/admin/rooms/${room}/migrate`, { to }, via);
	return { ...res, ms: Math.round(performance.now() - start) };
}

/** Acks a peer has received so far (first ack per id). */
function ackCount(peer: ResumingPeer): number {
	return peer.acks.size;
}

/** `room_moving` refusals a peer was sent, over all its connections. */
function roomMovingErrors(peer: ResumingPeer): number {
	return peer.connections.flatMap((c) => c.frames).filter((f) => f.type === "error" && f.code === "room_moving").length;
}

/** Waits until every peer is open on a connection welcomed by the room's new `home`. */
async function allResumedAt(peers: ResumingPeer[], home: string): Promise<void> {
	await Promise.all(peers.map((p) => p.until(() => p.status === "open" && p.lastConnection?.welcome?.home === home, 15_000, `a welcome from home ${home}`)));
}

/** Waits until every peer has `more` acks beyond what it had at `base`. */
async function allAckedMore(peers: ResumingPeer[], more: number): Promise<void> {
	await Promise.all(
		peers.map((p) => {
			const base = ackCount(p);
			return p.until(() => ackCount(p) >= base + more, 15_000, `${more} more acks`);
		}),
	);
}

/**
 * Publishes via HTTP (same id every attempt) until the room accepts it, retrying while it answers
 * 503 `room_moving`; resolves with the seq and how long it took.
 */
async function publishWhenUnfrozen(
	baseUrl: string,
	room: string,
	token: string,
	id: string,
	timeoutMs: number,
): Promise<{ seq: number; ms: number; attempts: number }> {
	const start = performance.now();
	const deadline = Date.now() + timeoutMs;
	let last = "";
	for (let attempt = 1; attempt <= timeoutMs / 100 && Date.now() < deadline; attempt++) {
		const res = await fetch(`${baseUrl}/v1/rooms/${room}/messages`, {
			method: "POST",
			headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
			body: JSON.stringify({ id, data: { id } }),
		});
		const text = await res.text();
		if (res.ok) return { seq: (JSON.parse(text) as { seq: number }).seq, ms: Math.round(performance.now() - start), attempts: attempt };
		last = `${res.status} ${text}`;
		if (!(res.status === 503 && text.includes("room_moving"))) break;
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`publish ${id} to ${room} not accepted within ${timeoutMs} ms; last answer: ${last}`);
}

/** The history of `room` read through every gateway in `via`; asserts they agree and returns one copy. */
async function historyEverywhere(cluster: RegionCluster, via: ClusterRegion[], room: string, token: string): Promise<MessageFrame[]> {
	const copies = await Promise.all(via.map((r) => fetchHistory(cluster.gateway(r).url, room, token)));
	const [first, ...rest] = copies;
	if (first === undefined) throw new Error("no gateway to read history through");
	for (const other of rest) expect(other.messages).toEqual(first.messages);
	return first.messages;
}

/**
 * Right after a move, every gateway (some holding a cached route to the old home, which then
 * forwards) answers with the new home and a head at least the migrated seq.
 */
async function expectHomeEverywhere(cluster: RegionCluster, room: string, token: string, home: string, atLeast: number): Promise<void> {
	for (const via of ["wnam", "weur", "apac"] as const) {
		const res = await fetch(`${cluster.gateway(via).url}/v1/rooms/${room}`, { headers: { Authorization: `Bearer ${token}` } });
		expect(res.status, via).toBe(200);
		const info = (await res.json()) as { home: string; seq: number };
		expect(info.home, via).toBe(home);
		expect(info.seq, via).toBeGreaterThanOrEqual(atLeast);
	}
}

describe("room migration across regions", () => {
	let cluster: RegionCluster;
	beforeAll(async () => {
		cluster = await RegionCluster.start({ vars: VARS });
	});
	afterAll(async () => {
		await cluster?.stop();
	});

	it("a room under load from two regions moves twice; every client resumes on 4010 and ends with the whole seq range exactly once", async () => {
		const room = uniqueRoom("mig-load");
		const reader = await mintToken("auditor", [room]);
		const specs: Array<{ label: string; via: ClusterRegion }> = [
			{ label: "w1", via: "wnam" },
			{ label: "w2", via: "wnam" },
			{ label: "e1", via: "weur" },
			{ label: "e2", via: "weur" },
		];
		const peers: ResumingPeer[] = [];
		// The first connection (via wnam) homes the room in wnam.
		for (const s of specs) {
			peers.push(
				await ResumingPeer.start({ baseWsUrl: cluster.gateway(s.via).wsUrl, room, token: await mintToken(s.label, [room]), label: s.label, mode: "auto" }),
			);
		}
		expect(peers.map((p) => p.welcomes[0]?.home)).toEqual(["wnam", "wnam", "wnam", "wnam"]);
		const tickers: SteadyPublisher[] = peers.map((p) => publishSteadily(p, { prefix: p.label, everyMs: 25, max: 2_000, maxInFlight: 8 }));
		let first: { ms: number };
		let second: { ms: number };
		let answer1: MigrateAnswer;
		let answer2: MigrateAnswer;
		try {
			await allAckedMore(peers, 5);

			// wnam → weur, asked through the wnam gateway.
			const ackedBefore1 = peers.reduce((n, p) => n + ackCount(p), 0);
			const res1 = await migrate(cluster, room, "weur", "wnam");
			expect(res1.status, `${JSON.stringify(res1.body)}; ${cluster.problems()}`).toBe(200);
			first = res1;
			answer1 = res1.body as MigrateAnswer;
			expect(answer1).toEqual({ from: "wnam", to: "weur", seq: answer1.seq, moved: peers.length });
			expect(answer1.seq).toBeGreaterThanOrEqual(ackedBefore1);
			await expectHomeEverywhere(cluster, room, reader, "weur", answer1.seq);
			await allResumedAt(peers, "weur");
			await allAckedMore(peers, 5);

			// weur → apac, asked through the weur gateway.
			const res2 = await migrate(cluster, room, "apac", "weur");
			expect(res2.status, `${JSON.stringify(res2.body)}; ${cluster.problems()}`).toBe(200);
			second = res2;
			answer2 = res2.body as MigrateAnswer;
			expect(answer2).toEqual({ from: "weur", to: "apac", seq: answer2.seq, moved: peers.length });
			expect(answer2.seq).toBeGreaterThan(answer1.seq);
			await expectHomeEverywhere(cluster, room, reader, "apac", answer2.seq);
			await allResumedAt(peers, "apac");
			await allAckedMore(peers, 5);
		} finally {
			for (const t of tickers) t.stop();
		}
		await Promise.all(peers.map((p) => p.allAcked(15_000)));

		const history = await historyEverywhere(cluster, ["wnam", "weur", "apac"], room, reader);
		const head = history.length;
		const published = peers.flatMap((p) => p.published);
		expect(seqs(history)).toEqual(range(1, head));
		expect(duplicatedIds(history)).toEqual({});
		expect(new Set(history.map((m) => m.id))).toEqual(new Set(published));
		expect(head).toBe(published.length);
		for (const [i, p] of peers.entries()) {
			await p.caughtUp(head);
			expect(p.violations, p.describe()).toEqual([]);
			expect(seqs(p.delivered), p.label).toEqual(range(1, head));
			// Each acked publish is in history once, at its acked seq.
			for (const [id, acks] of p.acks) expect(history[(acks[0]?.seq ?? 0) - 1]?.id, `${p.label} ${id}`).toBe(id);
			// Two 4010 closes naming the new home; each resume continued the session via the same gateway.
			const moves = p.connections.filter((c) => c.close?.code === CloseCode.RoomMoved);
			expect(
				moves.map((c) => parseCloseReason(c.close?.reason ?? "").home),
				p.describe(),
			).toEqual(["weur", "apac"]);
			expect(new Set(p.welcomes.map((w) => w.session)).size, p.describe()).toBe(1);
			expect(new Set(p.welcomes.map((w) => w.region))).toEqual(new Set([specs[i]?.via]));
			expect(p.welcomes.at(-1)?.home).toBe("apac");
		}
		const resumeMs = peers.flatMap((p) =>
			p.connections.filter((c) => c.close?.code === CloseCode.RoomMoved).map((c) => (p.connections[c.index + 1]?.welcomeAt ?? Number.NaN) - (c.close?.at ?? 0)),
		);
		console.info(
			`migration under load: ${head} messages; migrate wnam→weur ${first.ms} ms, weur→apac ${second.ms} ms; moved ${answer1.moved}+${answer2.moved}; ` +
				`4010→welcome ${Math.min(...resumeMs)}–${Math.max(...resumeMs)} ms; room_moving refusals ${peers.map(roomMovingErrors).join("/")}`,
		);

		// Moving it where it is, or somewhere that is not a region of this deployment, is refused.
		const again = await migrate(cluster, room, "apac", "wnam");
		expect(again.status).toBe(409);
		expect(again.body).toMatchObject({ error: { code: "already_there" } });
		for (const to of ["mars", "enam", ""]) {
			const bad = await migrate(cluster, room, to, "apac");
			expect(bad.status, to).toBe(400);
			expect(bad.body, to).toMatchObject({ error: { code: "bad_region" } });
		}
		await Promise.all(peers.map((p) => p.stop()));
	});

	it("a room host crash between copy and flip rolls the migration back: one home, unfrozen, every acked message once, and it migrates again", async () => {
		await cluster.restartRooms({ roomsVars: { BATON_FAULT_PAUSE_BEFORE_FLIP_MS: String(FAULT_PAUSE_MS) } });
		const room = uniqueRoom("mig-crash");
		const writer = await mintToken("writer", [room]);
		// An HTTP publish through wnam creates the room there.
		for (let k = 0; k < 5; k++) await httpPublish(cluster.gateway("wnam").url, room, writer, { k }, `before-${k}`);
		const peer = await ResumingPeer.start({
			baseWsUrl: cluster.gateway("weur").wsUrl,
			room,
			token: await mintToken("peer", [room]),
			label: "peer",
			mode: "auto",
			reconnectDeadlineMs: 60_000,
		});
		for (let k = 0; k < 3; k++) await peer.publish(`peer-${k}`, { k });
		await peer.caughtUp(8);

		const migrating = migrate(cluster, room, "apac", "wnam").catch((err: unknown) => ({ status: 0, body: String(err), ms: 0 }));
		const copied = await cluster.waitForLog((l) => l.event === "migrate_copied" && l.room === room, 15_000, "migrate_copied");
		expect(copied).toMatchObject({ from: "wnam", to: "apac", seq: 8 });
		// Frozen while paused: HTTP publishes are refused, a socket publish stays pending.
		const refused = await fetch(`${cluster.gateway("apac").url}/v1/rooms/${room}/messages`, {
			method: "POST",
			headers: { Authorization: `Bearer ${writer}`, "Content-Type": "application/json" },
			body: JSON.stringify({ id: "during-freeze", data: 1 }),
		});
		expect(refused.status).toBe(503);
		expect(await refused.json()).toMatchObject({ error: { code: "room_moving" } });
		const frozenPublish = peer.publish("peer-frozen", { frozen: true });
		await peer.until(() => roomMovingErrors(peer) > 0, 5_000, "a room_moving refusal");

		await cluster.killRooms();
		const crashed = await migrating;
		expect(crashed.status, JSON.stringify(crashed.body)).not.toBe(200);
		const restartStart = performance.now();
		await cluster.restartRooms({ roomsVars: {} });
		const restartMs = Math.round(performance.now() - restartStart);

		// Rolled back, not stuck frozen: a publish is accepted within a bounded wait.
		const unfrozen = await publishWhenUnfrozen(cluster.gateway("apac").url, room, writer, "after-crash", 20_000);
		const rolledBack = await cluster.waitForLog((l) => l.event === "migrate_rolled_back" && l.room === room, 5_000, "migrate_rolled_back");
		expect(rolledBack).toMatchObject({ from: "wnam", to: "apac" });
		// One home, the same through every gateway, asked twice each (the peer's re-sent publish may land meanwhile).
		for (let round = 0; round < 2; round++) {
			for (const via of ["wnam", "weur", "apac"] as const) {
				const res = await fetch(`${cluster.gateway(via).url}/v1/rooms/${room}`, { headers: { Authorization: `Bearer ${writer}` } });
				expect(res.status).toBe(200);
				const info = (await res.json()) as { room: string; home: string; seq: number };
				expect(info, via).toMatchObject({ room, home: "wnam" });
				expect(info.seq, via).toBeGreaterThanOrEqual(unfrozen.seq);
			}
		}
		expect((await frozenPublish).dup).toBe(false);
		await peer.allAcked();

		const history = await historyEverywhere(cluster, ["wnam", "weur", "apac"], room, writer);
		const acked = ["before-0", "before-1", "before-2", "before-3", "before-4", "peer-0", "peer-1", "peer-2", "peer-frozen", "after-crash"];
		expect(seqs(history)).toEqual(range(1, acked.length));
		expect(duplicatedIds(history)).toEqual({});
		expect(new Set(history.map((m) => m.id))).toEqual(new Set(acked));
		await peer.caughtUp(acked.length, 30_000);
		expect(peer.violations, peer.describe()).toEqual([]);
		expect(seqs(peer.delivered)).toEqual(range(1, acked.length));

		// The room host is whole again: the same migration now completes.
		const retried = await migrate(cluster, room, "apac", "weur");
		expect(retried.status, `${JSON.stringify(retried.body)}; ${cluster.problems()}`).toBe(200);
		expect(retried.body).toEqual({ from: "wnam", to: "apac", seq: acked.length, moved: 1 });
		await allResumedAt([peer], "apac");
		expect(await peer.publish("after-move", { moved: true })).toMatchObject({ seq: acked.length + 1, dup: false });
		const moved = await historyEverywhere(cluster, ["wnam", "apac"], room, writer);
		expect(seqs(moved)).toEqual(range(1, acked.length + 1));
		expect(duplicatedIds(moved)).toEqual({});
		console.info(
			`crash mid-migration: room host restart ${restartMs} ms; first accepted publish after restart ${unfrozen.ms} ms (${unfrozen.attempts} attempts); ` +
				`retried migrate ${retried.ms} ms, moved ${(retried.body as MigrateAnswer).moved}`,
		);
		await peer.stop();
	});
});
