/**
 * Hooks cannot break the guarantees (CONTRACT.md §7, §14), against `wrangler dev`: an app whose
 * `onPublish` awaits I/O-like delays and transforms every publish (test/e2e/fixtures/hooks) is
 * drained, then SIGKILLed and restarted on the same storage, while four resuming peers publish.
 * Afterwards every publish was acked, is stored exactly once at the seq it was acked with, in the
 * order its peer sent it, as the hook transformed it; every peer holds seqs 1..head once, in
 * order; and the hook ran at least once for each stored publish (more only for re-sends of
 * publishes that were in flight at a fault: hooks are at least once).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AckFrame } from "../../protocol/messages.ts";
import { mintToken, range, seqs, uniqueRoom } from "./harness/client.ts";
import { ROOT } from "./harness/process.ts";
import { duplicatedIds, fetchHistory, publishSteadily, ResumingPeer, reloadsOf } from "./harness/resuming-peer.ts";
import { DevServer, TEST_ADMIN_TOKEN } from "./harness/server.ts";

const PUBLISHERS = 4;
/** Each publisher's pace: 4 × 40/s, under the per-connection limit set below. */
const EVERY_MS = 25;
const MAX_PER_PUBLISHER = 300;
/** Drain once the room has this many messages, kill at twice that, stop this many after the restart. */
const DRAIN_AT_SEQ = 40;
const MORE_AFTER_RESTART = 40;

describe("hooks under a drain and a SIGKILL", () => {
	let server: DevServer;
	beforeAll(async () => {
		server = await DevServer.start({
			config: join(ROOT, "test/e2e/fixtures/hooks/wrangler.toml"),
			vars: { RATE_LIMIT_PER_SEC: "100", RATE_LIMIT_BURST: "100", HISTORY_LIMIT: "5000", DRAIN_WINDOW_MS: "1000" },
		});
	});
	afterAll(async () => {
		await server?.stop();
	});

	it("loses nothing, stores nothing twice, keeps each publisher's order and stores what the hook made of it", { timeout: 120_000 }, async () => {
		const room = uniqueRoom("hooks");
		const peers: ResumingPeer[] = [];
		for (let p = 0; p < PUBLISHERS; p++) {
			const label = `pub${p}`;
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
		const tickers = peers.map((p) => publishSteadily(p, { prefix: p.label, everyMs: EVERY_MS, max: MAX_PER_PUBLISHER, data: (i) => ({ i }) }));
		const [first] = peers as [ResumingPeer, ...ResumingPeer[]];

		// A drain while hooks are in flight: every socket gets 1012 and resumes.
		await first.caughtUp(DRAIN_AT_SEQ, 20_000);
		const drained = await fetch(`${server.url}/v1/admin/rooms/${room}/drain`, { method: "POST", headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
		expect(drained.status, await drained.clone().text()).toBe(200);
		expect(((await drained.json()) as { closed: number }).closed).toBe(PUBLISHERS);

		// A SIGKILL while hooks are in flight, then a restart on the same storage.
		await first.caughtUp(2 * DRAIN_AT_SEQ, 30_000);
		await server.kill();
		const pendingAtKill = peers.flatMap((p) => p.pendingIds);
		const connectionsAtKill = peers.map((p) => p.connections.length);
		await server.restart();
		for (const [i, p] of peers.entries()) {
			await p.until(() => p.connections.slice(connectionsAtKill[i]).some((c) => c.welcome !== undefined), 30_000, "a welcome after the restart");
		}
		const headAtRestart = Math.max(...peers.map((p) => p.lastSeq));
		await first.caughtUp(headAtRestart + MORE_AFTER_RESTART, 30_000);
		for (const t of tickers) t.stop();
		for (const p of peers) await p.allAcked(30_000);

		const history = await fetchHistory(server.url, room, await mintToken("auditor", [room]));
		const head = history.seq;
		const bySeq = new Map(history.messages.map((m) => [m.seq, m]));
		const diag = `head=${head}; pendingAtKill=${pendingAtKill.length}; wrangler reloads: ${reloadsOf(server)}`;
		expect(seqs(history.messages), diag).toEqual(range(1, head));
		expect(duplicatedIds(history.messages), diag).toEqual({});

		const calls = new Map<string, number>();
		for (const line of server.logs) if (line.event === "hook_call" && line.room === room) calls.set(String(line.id), (calls.get(String(line.id)) ?? 0) + 1);
		for (const p of peers) {
			const mine = history.messages.filter((m) => m.from === p.label);
			// What the hook made of each publish, in the order the peer sent them.
			expect(
				mine.map((m) => m.data),
				p.label,
			).toEqual(mine.map((_, k) => ({ i: k, by: p.label, checked: true })));
			expect(mine.map((m) => m.id)).toEqual(p.published);
			for (const id of p.published) {
				const acks = p.acks.get(id) ?? [];
				expect(acks.length, `${id} never acked; ${p.describe()}`).toBeGreaterThan(0);
				const seq = (acks[0] as AckFrame).seq;
				expect(bySeq.get(seq)?.id, `${id} acked as ${seq}; ${diag}`).toBe(id);
				expect(new Set(acks.map((a) => a.seq)).size, `${id}: ${JSON.stringify(acks)}`).toBe(1);
				expect(calls.get(id) ?? 0, `${id}: the hook ran for every stored publish`).toBeGreaterThanOrEqual(1);
			}
			await p.caughtUp(head, 15_000);
			expect(p.violations, p.describe()).toEqual([]);
			expect(seqs(p.delivered), p.label).toEqual(range(1, head));
		}
		const extraCalls = [...calls.values()].reduce((n, c) => n + c - 1, 0);
		console.log(
			JSON.stringify({
				test: "hooks-drain-kill",
				head,
				pendingAtKill: pendingAtKill.length,
				hookCalls: [...calls.values()].reduce((a, b) => a + b, 0),
				extraCalls,
			}),
		);
		await Promise.all(peers.map((p) => p.stop()));
	});
});
