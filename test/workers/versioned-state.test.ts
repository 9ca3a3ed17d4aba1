/**
 * A room waking on new code (CONTRACT.md §7 third bullet): with deferred code updates a room keeps
 * its sockets across a deploy and wakes on the new code with storage and attachments the old code
 * wrote. Its SQLite schema is migrated by number (rooms/schema.ts), its attachments are upgraded on
 * read, and a socket whose attachment cannot be read is closed with 1012 {retryIn}, never left
 * unanswered. The previous version's state is made by turning a live room's storage back into
 * it (old table names, no schema row, version 1 attachments), then the object is evicted with its
 * sockets hibernated and woken by a frame.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ROOM_MIGRATIONS } from "../../durable-objects/room/schema.ts";
import { WAKE_FOLD_MS } from "../../durable-objects/room/stats.ts";
import { SCHEMA_TABLE } from "../../durable-objects/schema-migrations.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import { signResumeToken } from "../../src/core/auth/resume-token.ts";
import { eventually, history, join, leaveRoom, muteInfoLogs, roomObject, SECRET, stats, tokenFor, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

const LATEST = ROOM_MIGRATIONS[ROOM_MIGRATIONS.length - 1]?.version ?? 0;

/** Tables of the room's SQLite, apart from the runtime's own. */
function tableNames(room: string): Promise<string[]> {
	return runInDurableObject(roomObject(room), (_i, state) =>
		state.storage.sql
			.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%' ORDER BY name")
			.toArray()
			.map((r) => r.name),
	);
}

/**
 * Turns the room's storage into what version 1 of the code wrote: unprefixed tables, no schema
 * row. First waits for the live object's pending wake count to be written (RoomCounters folds a
 * wake for up to 1 s), so nothing of it writes to a renamed table.
 */
async function toSchemaV1(room: string): Promise<void> {
	await eventually(
		() => runInDurableObject(roomObject(room), (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM _baton_counters").one().n),
		(rows) => rows === 1,
		"the wake count written",
		WAKE_FOLD_MS + 3000,
	);
	return runInDurableObject(roomObject(room), (_i, state) => {
		const sql = state.storage.sql;
		for (const t of ["meta", "messages", "dedupe", "sessions", "presence", "keys", "bans", "counters", "closes"])
			sql.exec(`ALTER TABLE _baton_${t} RENAME TO ${t}`);
		// Version 1 sessions had no resume secret (migration 3 adds the column), and messages had
		// no byte counts (migration 4).
		sql.exec("ALTER TABLE sessions DROP COLUMN secret");
		sql.exec("ALTER TABLE messages DROP COLUMN bytes");
		sql.exec("ALTER TABLE messages DROP COLUMN cum");
		sql.exec("DROP INDEX _baton_dedupe_ts");
		sql.exec("CREATE INDEX dedupe_ts ON dedupe (ts)");
		sql.exec(`DROP TABLE ${SCHEMA_TABLE}`);
	});
}

/** Rewrites every socket's attachment. */
function rewriteAttachments(room: string, change: (a: Record<string, unknown>) => Record<string, unknown>): Promise<number> {
	return runInDurableObject(roomObject(room), (_i, state) => {
		const sockets = state.getWebSockets();
		for (const ws of sockets) ws.serializeAttachment(change(ws.deserializeAttachment() as Record<string, unknown>));
		return sockets.length;
	});
}

/** What version 1 of the code stored: no `mayPublish`, `v: 1`. */
const toAttachmentV1 = ({ mayPublish: _dropped, ...a }: Record<string, unknown>) => ({ ...a, v: 1 });

describe("a room woken on new code", () => {
	it("serves sockets and state of the previous schema: tables renamed in place, attachments upgraded, nothing lost", async () => {
		const room = uniqueRoom();
		const alice = await join(room, "alice");
		const bob = await join(room, "bob");
		for (const id of ["a1", "a2", "a3"]) {
			alice.socket.publish(id);
			await alice.socket.ack(id);
		}
		await toSchemaV1(room);
		expect(await tableNames(room)).toEqual(["bans", "closes", "counters", "dedupe", "keys", "messages", "meta", "presence", "sessions"]);
		expect(await rewriteAttachments(room, toAttachmentV1)).toBe(2);
		const before = await runInDurableObject(
			roomObject(room),
			(_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n,
		);
		expect(before).toBe(3);

		await evictDurableObject(roomObject(room), { webSockets: "hibernate" });
		// The first event after the wake: a duplicate (dedupe records survived), then a new publish.
		alice.socket.publish("a2");
		expect(await alice.socket.ack("a2")).toEqual({ type: "ack", id: "a2", seq: 2, dup: true });
		alice.socket.publish("a4");
		expect(await alice.socket.ack("a4")).toMatchObject({ seq: 4, dup: false });
		expect(await bob.socket.message(4)).toMatchObject({ id: "a4", from: "alice" });
		bob.socket.publish("b1");
		expect(await bob.socket.ack("b1")).toMatchObject({ seq: 5 });

		expect(await tableNames(room)).toEqual([
			"_baton_bans",
			"_baton_closes",
			"_baton_counters",
			"_baton_dedupe",
			"_baton_keys",
			"_baton_messages",
			"_baton_meta",
			"_baton_presence",
			SCHEMA_TABLE,
			"_baton_sessions",
		]);
		const version = await runInDurableObject(
			roomObject(room),
			(_i, state) => state.storage.sql.exec<{ version: number }>(`SELECT version FROM ${SCHEMA_TABLE}`).one().version,
		);
		expect(version).toBe(LATEST);
		const s = await stats(room);
		expect(s).toMatchObject({ seq: 5, connections: 2, sessions: 2 });
		expect(s.wakeups).toBeGreaterThanOrEqual(2);
		expect((await history(room, await tokenFor(room))).messages.map((m) => m.id)).toEqual(["a1", "a2", "a3", "a4", "b1"]);
		// The rows from before the byte counts were counted on the wake: a running total, gapless.
		const counts = await runInDurableObject(roomObject(room), (_i, state) =>
			state.storage.sql.exec<{ bytes: number; cum: number }>("SELECT bytes, cum FROM _baton_messages ORDER BY seq").toArray(),
		);
		expect(counts.every((r) => r.bytes > 0)).toBe(true);
		expect(counts.map((r) => r.cum)).toEqual(counts.map((_r, i) => counts.slice(0, i + 1).reduce((sum, r) => sum + r.bytes, 0)));

		// Sessions moved to the renamed table: a resume after a close keeps the session, with the
		// token the previous code issued (signed; its sessions had no resume secret). 4000, so her
		// presence row (and its place in join order) waits out the grace instead of a goodbye.
		alice.socket.close(CloseCode.ClientReconnect);
		await alice.socket.closed();
		const signed = await signResumeToken({ room, sub: "alice", session: alice.welcome.session, exp: Number.MAX_SAFE_INTEGER }, SECRET);
		const back = await join(room, "alice", { resume: signed, after: 5 });
		expect(back.welcome).toMatchObject({ resumed: true, session: alice.welcome.session, seq: 5, presence: [{ sub: "alice" }, { sub: "bob" }] });
		await leaveRoom(room, back.socket, bob.socket);
	});

	it("closes a socket whose attachment it cannot read with 1012 {retryIn} as it wakes; the other sockets are served", async () => {
		const room = uniqueRoom();
		const alice = await join(room, "alice");
		const bob = await join(room, "bob");
		await rewriteAttachments(room, (a) => (a.sub === "bob" ? { ...a, v: 99 } : a));
		await evictDurableObject(roomObject(room), { webSockets: "hibernate" });
		alice.socket.publish("a1");
		expect(await alice.socket.ack("a1")).toMatchObject({ seq: 1 });
		const closed = await bob.socket.closed();
		expect(closed.code).toBe(CloseCode.ServiceRestart);
		expect(JSON.parse(closed.reason)).toEqual({ retryIn: expect.any(Number) });
		const s = await stats(room);
		expect(s.connections).toBe(1);
		expect(s.closes["1012"]).toBe(1);
		// Its session is resumable: the client comes back after retryIn as the same session.
		const back = await join(room, "bob", { resume: bob.welcome.resume });
		expect(back.welcome).toMatchObject({ resumed: true, session: bob.welcome.session });
		await leaveRoom(room, alice.socket, back.socket);
	});

	it("a frame from a socket whose attachment it cannot read closes that socket with 1012 (no wake needed)", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		await rewriteAttachments(room, () => ({ garbage: true }));
		socket.publish("x");
		const closed = await socket.closed();
		expect(closed.code).toBe(CloseCode.ServiceRestart);
		expect(JSON.parse(closed.reason)).toEqual({ retryIn: expect.any(Number) });
		expect((await stats(room)).seq).toBe(0);
	});

	it("the alarm closes a silent socket whose attachment it cannot read, and disarms once the room is empty", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		await rewriteAttachments(room, (a) => ({ ...a, v: "two" }));
		await runInDurableObject(roomObject(room), (instance) => instance.alarm());
		expect((await socket.closed()).code).toBe(CloseCode.ServiceRestart);
		const s = await stats(room);
		expect(s).toMatchObject({ connections: 0, alarm: null });
	});
});
