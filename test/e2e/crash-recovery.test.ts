/**
 * Crash recovery (CONTRACT.md §7): `wrangler dev` is SIGKILLed mid-stream (clients see 1006, the
 * room gets no close events) and restarted on the same persisted storage. Every acked message is
 * still there, seq continues gapless, every session resumes, and publishes re-sent by id are
 * stored exactly once whether or not the crash came before their ack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AckFrame } from "../../protocol/messages.ts";
import { mintToken, range, seqs, uniqueRoom } from "./harness/client.ts";
import { duplicatedIds, fetchHistory, publishSteadily, ResumingPeer, reloadsOf } from "./harness/resuming-peer.ts";
import { DevServer } from "./harness/server.ts";

const PUBLISHERS = 4;
/** Each publisher's pace: 4 × 40/s, under the 100/s per-connection limit set below. */
const EVERY_MS = 25;
const MAX_PER_PUBLISHER = 400;
/** Kill once the room has this many messages; stop publishing this many after the restart. */
const KILL_AT_SEQ = 60;
const MORE_AFTER_RESTART = 60;

describe("crash recovery: SIGKILL of wrangler dev with persisted storage", () => {
	let server: DevServer;
	beforeAll(async () => {
		server = await DevServer.start({ vars: { RATE_LIMIT_PER_SEC: "100", RATE_LIMIT_BURST: "100" } });
	});
	afterAll(async () => {
		await server?.stop();
	});

	it("keeps every acked message, continues seq gaplessly and resumes every session after a SIGKILL mid-stream", async () => {
		const room = uniqueRoom("crash");
		const peers: ResumingPeer[] = [];
		for (let i = 0; i < PUBLISHERS; i++) {
			const label = `pub${i}`;
			peers.push(
				await ResumingPeer.start({
					baseWsUrl: server.wsUrl,
					room,
					token: await mintToken(label, [room]),
					label,
					backoff: { minMs: 100, maxMs: 500 },
					reconnectDeadlineMs: 60_000,
				}),
			);
		}
		const sessions = peers.map((p) => p.sessionId);
		const tickers = peers.map((p) => publishSteadily(p, { prefix: p.label, everyMs: EVERY_MS, max: MAX_PER_PUBLISHER }));
		const [first] = peers as [ResumingPeer, ...ResumingPeer[]];
		await first.caughtUp(KILL_AT_SEQ, 20_000);

		await server.kill();
		// Everything acked before the kill (some acks may still have been on the wire: those
		// publishes are pending and will be re-sent after the restart).
		const ackedBeforeKill = new Map<string, number>();
		for (const p of peers) for (const [id, acks] of p.acks) ackedBeforeKill.set(id, (acks[0] as AckFrame).seq);
		const pendingAtKill = peers.flatMap((p) => p.pendingIds);
		const connectionsAtKill = peers.map((p) => p.connections.length);
		for (const p of peers) {
			const killed = p.connections[p.connections.length - 1];
			await p.until(() => killed?.close !== undefined, 10_000, "the close of the killed connection");
			expect(killed?.close?.code, p.describe()).toBe(1006);
		}

		await server.restart();
		for (const p of peers) {
			await p.until(() => p.connections.slice(connectionsAtKill[peers.indexOf(p)]).some((c) => c.welcome !== undefined), 30_000, "a welcome after the restart");
		}
		const headAtRestart = Math.max(...peers.map((p) => p.lastSeq));
		await first.caughtUp(headAtRestart + MORE_AFTER_RESTART, 20_000);
		for (const t of tickers) t.stop();
		for (const p of peers) await p.allAcked(20_000);

		const history = await fetchHistory(server.url, room, await mintToken("auditor", [room]));
		const head = history.seq;
		const bySeq = new Map(history.messages.map((m) => [m.seq, m]));
		const diag = `head=${head}; pendingAtKill=${pendingAtKill.length}; wrangler reloads: ${reloadsOf(server)}`;

		// None lost: every message acked before the kill is in the log at the seq it was acked with.
		for (const [id, seq] of ackedBeforeKill) expect(bySeq.get(seq)?.id, `${id} acked as ${seq}; ${diag}`).toBe(id);
		// Seq continued gaplessly across the crash, and no publish id is stored twice.
		expect(seqs(history.messages), diag).toEqual(range(1, head));
		expect(duplicatedIds(history.messages), diag).toEqual({});

		let resentDup = 0;
		let resentNew = 0;
		for (const p of peers) {
			// Sessions survived the crash: every connect after it resumed the same session.
			const after = p.connections.slice(connectionsAtKill[peers.indexOf(p)]).filter((c) => c.welcome !== undefined);
			expect(after.length, p.describe()).toBeGreaterThan(0);
			for (const c of after) expect(c.welcome, p.describe()).toMatchObject({ resumed: true, session: sessions[peers.indexOf(p)] });
			// Every publish was acked, with the seq the log holds it at; each id is in the log once.
			for (const id of p.published) {
				const acks = p.acks.get(id) ?? [];
				expect(acks.length, `${id} never acked; ${p.describe()}`).toBeGreaterThan(0);
				const seq = (acks[0] as AckFrame).seq;
				expect(bySeq.get(seq)?.id, `${id} acked as ${seq}`).toBe(id);
				expect(
					history.messages.filter((m) => m.id === id),
					id,
				).toHaveLength(1);
				expect(new Set(acks.map((a) => a.seq)).size, `${id}: ${JSON.stringify(acks)}`).toBe(1);
				expect(acks.filter((a) => !a.dup).length, `${id}: ${JSON.stringify(acks)}`).toBeLessThanOrEqual(1);
				if (pendingAtKill.includes(id)) {
					if (acks.some((a) => a.dup)) resentDup++;
					else resentNew++;
				}
			}
			// Delivery: every seq once, in order, none missing, across the crash.
			await p.caughtUp(head, 15_000);
			expect(p.violations, p.describe()).toEqual([]);
			expect(seqs(p.delivered), p.label).toEqual(range(1, head));
		}
		expect(resentDup + resentNew).toBe(pendingAtKill.length);
		console.log(
			JSON.stringify({
				test: "crash-recovery",
				head,
				ackedBeforeKill: ackedBeforeKill.size,
				pendingAtKill: pendingAtKill.length,
				resentDup,
				resentNew,
				connects: peers.map((p) => p.connections.length),
			}),
		);
		await Promise.all(peers.map((p) => p.stop()));
	});
});
