/**
 * Resume after every kind of close (CONTRACT.md §5, §6, §7): the client's own 1000, a 1012 drain,
 * a 4008 heartbeat timeout and a 4011 replacement. In each case the resumed connection gets what
 * it missed right after `welcome`, in order and before any live message, ends with the room's
 * whole gapless seq range, and its publishes re-sent by id are acked `dup:true` with their first
 * seq and stored once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloseCode, parseCloseReason } from "../../protocol/close-codes.ts";
import type { AckFrame, WelcomeFrame } from "../../protocol/messages.ts";
import { mintToken, range, seqs, uniqueRoom } from "./harness/client.ts";
import { duplicatedIds, fetchHistory, httpPublish, type PeerConnection, publishSteadily, ResumingPeer, reloadsOf } from "./harness/resuming-peer.ts";
import { DevServer } from "./harness/server.ts";

/** Messages another sub publishes while the readers are away. */
const AWAY = 6;
/** Messages published before the cut: 3 from another sub, then 2 per reader. */
const BEFORE_OTHERS = 3;

interface Scenario {
	room: string;
	readers: ResumingPeer[];
	/** Each reader's connection that was cut. */
	cutConnections: PeerConnection[];
	/** Each reader's welcome after the cut. */
	welcomes: WelcomeFrame[];
	head: number;
}

/**
 * Connects `readerCount` readers, has each publish one message (acked) and one whose ack it
 * "loses", cuts them with `cut`, publishes AWAY messages from another sub while they are away,
 * then resumes them while a live publisher keeps the room busy, and checks everything the
 * contract promises about the resumed connections.
 */
async function resumeAfterCut(
	server: DevServer,
	prefix: string,
	readerCount: number,
	cut: (readers: ResumingPeer[]) => Promise<void>,
	expectCode: number,
): Promise<Scenario> {
	const room = uniqueRoom(prefix);
	const writerToken = await mintToken("writer", [room]);
	const readers: ResumingPeer[] = [];
	for (let i = 0; i < readerCount; i++) {
		const label = `reader${i}`;
		readers.push(await ResumingPeer.start({ baseWsUrl: server.wsUrl, room, token: await mintToken(label, [room]), label, mode: "manual" }));
	}
	for (let k = 0; k < BEFORE_OTHERS; k++) await httpPublish(server.url, room, writerToken, { k }, `writer-before-${k}`);

	const firstAcks: AckFrame[] = [];
	const lostAcks: AckFrame[] = [];
	const unseenAcks: Array<Promise<AckFrame>> = [];
	for (const r of readers) {
		firstAcks.push(await r.publish(`${r.label}-1`, { n: 1 }));
		const lost = r.loseAckOf(`${r.label}-2`);
		unseenAcks.push(r.publish(`${r.label}-2`, { n: 2 }));
		lostAcks.push(await lost);
	}
	const headBefore = BEFORE_OTHERS + 2 * readerCount;
	for (const r of readers) await r.caughtUp(headBefore);
	const sessions = readers.map((r) => r.sessionId);
	const cutConnections = readers.map((r) => r.lastConnection as PeerConnection);

	await cut(readers);
	for (let k = 0; k < AWAY; k++) await httpPublish(server.url, room, writerToken, { k }, `writer-away-${k}`);

	// Live traffic races the resumes: none of it may come before a replayed message.
	const live = await ResumingPeer.start({ baseWsUrl: server.wsUrl, room, token: await mintToken("live", [room]), label: "live" });
	const ticker = publishSteadily(live, { prefix: "live", everyMs: 10, max: 40 });
	const welcomes = await Promise.all(readers.map((r) => r.reconnect()));

	for (const [i, r] of readers.entries()) {
		const conn = cutConnections[i] as PeerConnection;
		await r.until(() => conn.close !== undefined, 10_000, "the close of the cut connection");
		expect(conn.close?.code, `${r.describe()}; wrangler reloads: ${reloadsOf(server)}`).toBe(expectCode);
		const welcome = welcomes[i] as WelcomeFrame;
		const resumedConn = r.lastConnection as PeerConnection;
		expect(welcome, r.describe()).toMatchObject({ resumed: true, session: sessions[i], gap: false });
		expect(resumedConn.after).toBe(headBefore);
		expect(welcome.replayed).toBeGreaterThanOrEqual(AWAY);
		expect(welcome.replayed).toBe(welcome.seq - headBefore);
		// Right after welcome: exactly the replayed messages, in order, ending at welcome.seq.
		const afterWelcome = resumedConn.frames.slice(1, 1 + welcome.replayed);
		expect(afterWelcome.map((f) => f.type)).toEqual(Array(welcome.replayed).fill("message"));
		expect(afterWelcome.map((f) => (f.type === "message" ? f.seq : -1))).toEqual(range(headBefore + 1, welcome.seq));

		// The publish whose ack was lost was re-sent after welcome: acked once more, as a duplicate.
		const resent = await unseenAcks[i];
		expect(resent).toMatchObject({ id: `${r.label}-2`, dup: true, seq: lostAcks[i]?.seq });
		// A publish that was acked before the cut, sent again with the same id: the same seq, dup.
		expect(await r.publish(`${r.label}-1`, { n: 1 })).toMatchObject({ dup: true, seq: firstAcks[i]?.seq });
	}

	ticker.stop();
	await live.allAcked();
	const history = await fetchHistory(server.url, room, writerToken);
	const head = history.seq;
	for (const p of [...readers, live]) {
		await p.caughtUp(head);
		expect(p.violations, p.describe()).toEqual([]);
		expect(seqs(p.delivered), p.label).toEqual(range(1, head));
	}
	expect(seqs(history.messages)).toEqual(range(1, head));
	expect(duplicatedIds(history.messages)).toEqual({});
	for (const r of readers) {
		expect(history.messages.filter((m) => m.id === `${r.label}-1` || m.id === `${r.label}-2`)).toHaveLength(2);
	}
	await Promise.all([...readers, live].map((p) => p.stop()));
	return { room, readers, cutConnections, welcomes, head };
}

describe("resume on a server with default timings", () => {
	let server: DevServer;
	beforeAll(async () => {
		server = await DevServer.start({ vars: { DRAIN_WINDOW_MS: "3000" } });
	});
	afterAll(async () => {
		await server?.stop();
	});

	it("a client that closed with 1000 resumes its session and gets what it missed, replayed before any live message", async () => {
		await resumeAfterCut(
			server,
			"resume-1000",
			1,
			async ([r]) => {
				r?.cut("close");
				expect((await r?.closed())?.code, `wrangler reloads: ${reloadsOf(server)}`).toBe(CloseCode.Normal);
			},
			CloseCode.Normal,
		);
	});

	it("a drain closes every client with 1012 and a retryIn within the window, and each resumes after retryIn with nothing lost or repeated", async () => {
		let drainedAt = 0;
		const scenario = await resumeAfterCut(
			server,
			"resume-drain",
			3,
			async (readers) => {
				drainedAt = Date.now();
				const res = await server.admin("POST", `/v1/admin/rooms/${readers[0]?.room}/drain`);
				expect(res).toEqual({ status: 200, body: { closed: 3 } });
				for (const r of readers) await r.closed(5_000);
			},
			CloseCode.ServiceRestart,
		);
		for (const [i, r] of scenario.readers.entries()) {
			const close = scenario.cutConnections[i]?.close;
			if (close === undefined) throw new Error(`${r.label}: no close`);
			const retryIn = parseCloseReason(close.reason).retryIn;
			expect(JSON.parse(close.reason), r.describe()).toEqual({ retryIn });
			expect(retryIn).toBeGreaterThanOrEqual(0);
			expect(retryIn).toBeLessThan(3000);
			expect(close.at - drainedAt).toBeLessThan(3000);
			// The reconnect waited out retryIn (manual reconnect honours it like auto mode).
			const resumed = r.lastConnection as PeerConnection;
			expect(resumed.startedAt).toBeGreaterThanOrEqual(close.at + (retryIn ?? 0));
		}
		const stats = await server.admin("GET", `/v1/admin/rooms/${scenario.room}/stats`);
		expect((stats.body as { closes: Record<string, number> }).closes[String(CloseCode.ServiceRestart)]).toBe(3);
	});

	it("a second connection resuming a live session closes the first with 4011 and carries on as the same session", async () => {
		const scenario = await resumeAfterCut(
			server,
			"resume-4011",
			1,
			async ([r]) => {
				// Half-open: the old socket stays open at the server while the client stops listening.
				r?.cut("abandon");
			},
			CloseCode.SessionReplaced,
		);
		const [reader] = scenario.readers;
		expect(JSON.parse(scenario.cutConnections[0]?.close?.reason ?? "{}")).toEqual({ code: "session_replaced" });
		expect(reader?.connections.map((c) => c.welcome?.session)).toEqual([scenario.welcomes[0]?.session, scenario.welcomes[0]?.session]);
	});
});

describe("resume after a heartbeat timeout", () => {
	let server: DevServer;
	beforeAll(async () => {
		server = await DevServer.start({ vars: { HEARTBEAT_INTERVAL_MS: "1000", HEARTBEAT_TIMEOUT_MS: "3000" } });
	});
	afterAll(async () => {
		await server?.stop();
	});

	it("a silent client closed with 4008 resumes its session and gets what it missed, replayed before any live message", async () => {
		await resumeAfterCut(
			server,
			"resume-4008",
			1,
			async ([r]) => {
				// Stay silent: no frame, no ping. Timeout 3 s, checked at least every 1 s.
				const close = await r?.closed(10_000);
				expect(close?.code, `wrangler reloads: ${reloadsOf(server)}`).toBe(CloseCode.HeartbeatTimeout);
				expect(JSON.parse(close?.reason ?? "{}")).toEqual({ code: "heartbeat_timeout" });
			},
			CloseCode.HeartbeatTimeout,
		);
	});
});

describe("resume past what the log keeps", () => {
	let server: DevServer;
	beforeAll(async () => {
		server = await DevServer.start({ vars: { HISTORY_LIMIT: "10" } });
	});
	afterAll(async () => {
		await server?.stop();
	});

	it("says gap:true when `after` is older than the oldest kept message, and still replays every kept one in order", async () => {
		const room = uniqueRoom("resume-gap");
		const writerToken = await mintToken("writer", [room]);
		const reader = await ResumingPeer.start({ baseWsUrl: server.wsUrl, room, token: await mintToken("reader", [room]), label: "reader", mode: "manual" });
		for (let k = 0; k < 3; k++) await httpPublish(server.url, room, writerToken, { k });
		await reader.caughtUp(3);
		const session = reader.sessionId;
		reader.cut("close");
		await reader.closed();

		// 30 more: with HISTORY_LIMIT=10 the log keeps between 10 and 20, so seqs 4.. are gone.
		for (let k = 0; k < 30; k++) await httpPublish(server.url, room, writerToken, { k });
		const kept = await fetchHistory(server.url, room, writerToken);
		expect(kept.seq).toBe(33);
		const oldest = kept.oldest ?? 0;
		expect(oldest).toBeGreaterThan(4);
		expect(33 - oldest + 1).toBeGreaterThanOrEqual(10);
		expect(33 - oldest + 1).toBeLessThanOrEqual(20);

		const welcome = await reader.reconnect();
		expect(welcome).toMatchObject({ resumed: true, session, gap: true, seq: 33, replayed: 33 - oldest + 1 });
		expect(reader.gaps).toEqual([{ after: 3, first: oldest }]);
		await reader.caughtUp(33);
		expect(reader.violations, reader.describe()).toEqual([]);
		expect(seqs(reader.delivered)).toEqual([1, 2, 3, ...range(oldest, 33)]);

		// A resume from within what is kept has no gap.
		reader.cut("close");
		await reader.closed();
		await httpPublish(server.url, room, writerToken, { k: "last" });
		expect(await reader.reconnect()).toMatchObject({ resumed: true, gap: false, replayed: 1, seq: 34 });
		await reader.caughtUp(34);
		expect(reader.violations, reader.describe()).toEqual([]);
		await reader.stop();
	});
});
