/**
 * The room's own resume-token key (CONTRACT.md §2: resume tokens work with every verification
 * setting of §11): without BATON_JWT_SECRET the room makes one key, keeps it, and a migration
 * copies it, so a token issued at the old home verifies at the new one.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { resumeKey } from "../../durable-objects/room/resume-key.ts";
import { exportChunk, importChunk, TRANSFER_START, type TransferCursor } from "../../durable-objects/room/transfer.ts";
import { signResumeToken, verifyResumeToken } from "../../src/core/auth/resume-token.ts";
import { roomObject, SECRET, uniqueRoom } from "./helpers.ts";

const keyOf = (room: string, secret: string | null) => runInDurableObject(roomObject(room), (_i, state) => resumeKey(state.storage.sql, secret));

describe("the resume-token key", () => {
	it("is BATON_JWT_SECRET when set, and the room's own stable random key when not", async () => {
		const room = uniqueRoom();
		expect(await keyOf(room, SECRET)).toBe(SECRET);
		const own = await keyOf(room, null);
		expect(own).toMatch(/^[A-Za-z0-9_-]{43}$/);
		expect(await keyOf(room, null)).toBe(own);
		expect(await keyOf(uniqueRoom(), null)).not.toBe(own);
	});

	it("moves with a migration's copy: a token signed at the old home verifies at the new", async () => {
		const from = uniqueRoom();
		const to = `${uniqueRoom()}@1`;
		const key = await keyOf(from, null);
		const token = await signResumeToken({ room: from, sub: "alice", session: "s1", exp: Number.MAX_SAFE_INTEGER }, key);
		let cursor: TransferCursor | null = TRANSFER_START;
		while (cursor !== null) {
			const at: TransferCursor = cursor;
			const page = await runInDurableObject(roomObject(from), (_i, state) => exportChunk(state.storage, at));
			await runInDurableObject(roomObject(to), (_i, state) => importChunk(state.storage, page.chunk));
			cursor = page.next;
		}
		const moved = await keyOf(to, null);
		expect(moved).toBe(key);
		expect(await verifyResumeToken(token, moved, { room: from, sub: "alice" })).toBe("s1");
	});
});
