/**
 * The log's cumulative byte count at a seq (send accounts, CONTRACT.md §13): served from the
 * recent appends without a query, from SQLite for older seqs and after a rebuild, and always the
 * stored `cum` of that row.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MessageLog } from "../../durable-objects/room/message-log.ts";
import { Meta } from "../../durable-objects/room/meta.ts";
import { applySchema } from "../../durable-objects/room/schema.ts";
import { muteInfoLogs, roomObject, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

const LIMITS = { historyLimit: 5000, historyMaxBytes: 64 * 1024 * 1024 };
const WINDOW_MS = 120_000;

function storedCums(sql: SqlStorage): Map<number, number> {
	return new Map(
		sql
			.exec<{ seq: number; cum: number }>("SELECT seq, cum FROM _baton_messages")
			.toArray()
			.map((r) => [r.seq, r.cum]),
	);
}

describe("MessageLog.cumAt", () => {
	it("equals the stored running total at every kept seq: recent ones, ones older than the recent ring, and after the object forgot", async () => {
		await runInDurableObject(roomObject(uniqueRoom()), (_instance: unknown, state: DurableObjectState) => {
			applySchema(state.storage);
			const log = new MessageLog(state.storage, new Meta(state.storage.sql), LIMITS, WINDOW_MS);
			const now = Date.now();
			// More than the ring holds (1,024), data of varying length so every count differs.
			for (let i = 1; i <= 1500; i++) log.append({ scope: "s", id: `m${i}`, from: "w", data: "x".repeat(i % 37), now });
			const stored = storedCums(state.storage.sql);
			expect(stored.size).toBe(1500);
			for (const [seq, cum] of stored) expect(log.cumAt(seq), `seq ${seq}`).toBe(cum);
			// A second object over the same storage (a wake): nothing in memory, same answers.
			const woken = new MessageLog(state.storage, new Meta(state.storage.sql), LIMITS, WINDOW_MS);
			for (const seq of [1, 476, 477, 1000, 1499, 1500]) expect(woken.cumAt(seq)).toBe(stored.get(seq));
			log.forget();
			for (const seq of [2, 1400, 1500]) expect(log.cumAt(seq)).toBe(stored.get(seq));
		});
	});

	it("a seq no longer kept counts from just before the oldest kept message (a lower bound)", async () => {
		await runInDurableObject(roomObject(uniqueRoom()), (_instance: unknown, state: DurableObjectState) => {
			applySchema(state.storage);
			const log = new MessageLog(state.storage, new Meta(state.storage.sql), { historyLimit: 10, historyMaxBytes: LIMITS.historyMaxBytes }, WINDOW_MS);
			const now = Date.now();
			for (let i = 1; i <= 25; i++) log.append({ scope: "s", id: `m${i}`, from: "w", data: i, now });
			const first = state.storage.sql
				.exec<{ seq: number; cum: number; bytes: number }>("SELECT seq, cum, bytes FROM _baton_messages ORDER BY seq LIMIT 1")
				.one();
			expect(first.seq).toBeGreaterThan(1);
			// Pruned seqs are still in the ring, but the answer must not depend on it: both are ≤ the oldest kept base.
			expect(log.cumAt(1)).toBeLessThanOrEqual(first.cum - first.bytes);
			log.forget();
			expect(log.cumAt(1)).toBe(first.cum - first.bytes);
		});
	});
});
