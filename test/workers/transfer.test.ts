/**
 * Storage the app owns moves with its room (CONTRACT.md §8, §14): a migration copies every table
 * of the room's SQLite that is not the runtime's — baton's and the app's, BLOBs intact, WITHOUT
 * ROWID tables, indexes, triggers (not fired again by the copy) — and its key-value storage, in
 * pages of about 1 MB where a bigger row moves alone; the old home keeps none of it. An anchor or
 * a room of the previous version still migrates with the previous copy (baton's tables only).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { exportChunk, importChunk, TRANSFER_PAGE_BYTES, TRANSFER_START, type TransferChunk, type TransferCursor } from "../../durable-objects/room/transfer.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import { blobBytes, Scenario } from "../fixtures/test-rooms.ts";
import { admin, history, join, leaveRoom, muteInfoLogs, roomObject, tokenFor, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

const migrate = (room: string, to: string) => admin(`/rooms/${encodeURIComponent(room)}/migrate`, { body: { to } });
/** Generation `gen` of `room` (after `gen` migrations). */
const generation = (room: string, gen: number) => roomObject(gen === 0 ? room : `${room}@${gen}`);

/** A digest of an app table's rows (BLOBs as hex), for comparing two homes. */
function dumpTable(room: string, gen: number, table: string): Promise<string[]> {
	return runInDurableObject(generation(room, gen), (_i, state) =>
		state.storage.sql
			.exec(`SELECT * FROM ${table} ORDER BY 1`)
			.toArray()
			.map((row) => JSON.stringify(Object.entries(row).map(([k, v]) => [k, v instanceof ArrayBuffer ? `blob:${v.byteLength}:${hex(new Uint8Array(v))}` : v]))),
	);
}

function hex(bytes: Uint8Array): string {
	// A cheap fingerprint of every byte (the whole BLOB would make a 3 MB string).
	let h = 0x811c9dc5;
	for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
	return (h >>> 0).toString(16);
}

function appObjects(room: string, gen: number): Promise<string[]> {
	return runInDurableObject(generation(room, gen), (_i, state) =>
		state.storage.sql
			.exec<{ type: string; name: string }>(
				"SELECT type, name FROM sqlite_master WHERE substr(name, 1, 7) <> '_baton_' AND substr(name, 1, 4) <> '_cf_' AND substr(name, 1, 7) <> 'sqlite_' ORDER BY type, name",
			)
			.toArray()
			.map((r) => `${r.type}:${r.name}`),
	);
}

function kvEntries(room: string, gen: number): Promise<Array<[string, unknown]>> {
	return runInDurableObject(generation(room, gen), async (_i, state) => [...(await state.storage.list())]);
}

describe("a migration moves the app's storage", () => {
	it("app tables (BLOBs, WITHOUT ROWID, an index, a trigger) and key-value storage made by hooks arrive intact; the old home keeps none", {
		timeout: 30_000,
	}, async () => {
		const room = uniqueRoom(`hk-${Scenario.Ledger}`);
		const alice = await join(room, "alice");
		const bob = await join(room, "bob");
		const sizes = [16, 300_000, 1_500_000, 700_000, 0];
		for (const [i, size] of sizes.entries()) {
			alice.socket.publish(`p${i}`, { blob: size, note: `note ${i}` });
			await alice.socket.ack(`p${i}`);
		}
		bob.socket.publish("b0", { blob: 64 });
		await bob.socket.ack("b0");
		// More key-value entries than one page holds, of every structured-clone kind.
		await runInDurableObject(roomObject(room), async (_i, state) => {
			for (let start = 0; start < 300; start += 100) {
				const batch: Record<string, unknown> = {};
				for (let k = start; k < start + 100; k++)
					batch[`n:${String(k).padStart(3, "0")}`] = {
						k,
						when: new Date(k),
						tags: new Set([k]),
						map: new Map([[k, "v"]]),
						bytes: blobBytes(`n${k}`, 32).buffer,
					};
				await state.storage.put(batch);
			}
		});
		const tables = ["blobs", "tally", "visitors"];
		const before = await Promise.all(tables.map((t) => dumpTable(room, 0, t)));
		const objectsBefore = await appObjects(room, 0);
		expect(objectsBefore).toEqual(["index:blobs_by_sub", "table:blobs", "table:tally", "table:visitors", "trigger:tally_on_blob"]);
		const kvBefore = await kvEntries(room, 0);
		expect(kvBefore).toHaveLength(306);
		await leaveRoom(room, alice.socket, bob.socket);

		const res = await migrate(room, "weur");
		expect(res.status, await res.clone().text()).toBe(200);
		expect(await res.json()).toMatchObject({ from: "wnam", to: "weur", seq: 6 });

		expect(await Promise.all(tables.map((t) => dumpTable(room, 1, t)))).toEqual(before);
		expect(await appObjects(room, 1)).toEqual(objectsBefore);
		expect(await kvEntries(room, 1)).toEqual(kvBefore);
		// The trigger did not fire for copied rows (the tally matches the rows), and fires for new ones.
		expect(await dumpTable(room, 1, "tally")).toEqual([
			JSON.stringify([
				["sub", "alice"],
				["n", 5],
			]),
			JSON.stringify([
				["sub", "bob"],
				["n", 1],
			]),
		]);
		const back = await join(room, "alice", { resume: alice.welcome.resume });
		expect(back.welcome).toMatchObject({ resumed: true, home: "weur" });
		back.socket.publish("after", { blob: 8 });
		expect(await back.socket.ack("after")).toMatchObject({ seq: 7 });
		expect(await dumpTable(room, 1, "tally")).toContain(
			JSON.stringify([
				["sub", "alice"],
				["n", 6],
			]),
		);
		expect(await dumpTable(room, 1, "visitors")).toEqual([
			JSON.stringify([
				["sub", "alice"],
				["visits", 2],
			]),
			JSON.stringify([
				["sub", "bob"],
				["visits", 1],
			]),
		]);

		// The old home forwards and holds nothing of the room any more.
		expect(await appObjects(room, 0)).toEqual([]);
		expect(await kvEntries(room, 0)).toEqual([]);
		await leaveRoom(room, back.socket);
	});
});

describe("the copy's pages", () => {
	it("carry about 1 MB each, a row bigger than that alone, and rebuild the same table elsewhere", { timeout: 30_000 }, async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		socket.publish("m1");
		await socket.ack("m1");
		await leaveRoom(room, socket);
		await runInDurableObject(roomObject(room), (_i, state) => {
			const sql = state.storage.sql;
			sql.exec("CREATE TABLE files (name TEXT, body BLOB)");
			for (let i = 0; i < 40; i++) sql.exec("INSERT INTO files (name, body) VALUES (?, ?)", `f${i}`, blobBytes(`f${i}`, 100_000).buffer);
			sql.exec("INSERT INTO files (name, body) VALUES (?, ?)", "huge", blobBytes("huge", 1_800_000).buffer);
			for (let i = 40; i < 45; i++) sql.exec("INSERT INTO files (name, body) VALUES (?, ?)", `f${i}`, blobBytes(`f${i}`, 100_000).buffer);
		});
		await roomObject(room).freeze(room);
		const target = `${room}@7`;
		const chunks: TransferChunk[] = [];
		let cursor: TransferCursor | null = TRANSFER_START;
		while (cursor !== null) {
			const at: TransferCursor = cursor;
			const page = await runInDurableObject(roomObject(room), (_i, state) => exportChunk(state.storage, at));
			await runInDurableObject(roomObject(target), (_i, state) => importChunk(state.storage, page.chunk));
			chunks.push(page.chunk);
			cursor = page.next;
		}
		const filePages = chunks.filter((c): c is Extract<TransferChunk, { kind: "rows" }> => c.kind === "rows" && c.table === "files");
		const bytesOf = (c: Extract<TransferChunk, { kind: "rows" }>) =>
			c.rows.reduce((n, r) => n + r.reduce<number>((m, v) => m + (v instanceof ArrayBuffer ? v.byteLength : 0), 0), 0);
		expect(filePages.map((p) => p.rows.length).reduce((a, b) => a + b, 0)).toBe(46);
		expect(filePages.length).toBeGreaterThanOrEqual(6);
		for (const p of filePages) {
			if (p.rows.length > 1) expect(bytesOf(p)).toBeLessThanOrEqual(TRANSFER_PAGE_BYTES + 100_000);
		}
		const huge = filePages.find((p) => p.rows.some((r) => r.includes("huge")));
		expect(huge?.rows).toHaveLength(1);
		// Every chunk kind came, in order: schema, baton's tables, the app's, key-value, DDL.
		expect(chunks[0]?.kind).toBe("schema");
		expect(chunks[chunks.length - 1]?.kind).toBe("ddl");
		const digest = (name: string) =>
			runInDurableObject(roomObject(name), (_i, state) =>
				state.storage.sql
					.exec<{ name: string; body: ArrayBuffer }>("SELECT name, body FROM files ORDER BY rowid")
					.toArray()
					.map((r) => `${r.name}:${r.body.byteLength}:${hex(new Uint8Array(r.body))}`),
			);
		expect(await digest(target)).toEqual(await digest(room));
		await roomObject(room).unfreeze();
	});
});

describe("one version of skew between anchor and room", () => {
	it("a new room answers the previous version's copy calls (old table names, fixed columns)", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		socket.publish("x1", { v: 1 });
		await socket.ack("x1");
		await leaveRoom(room, socket);
		const page = await roomObject(room).exportTable("messages", 0);
		expect(page).toEqual({ rows: [[1, "x1", "alice", JSON.stringify({ v: 1 }), expect.any(Number)]], next: null });
		const other = `${room}@3`;
		await roomObject(other).importTable("messages", page.rows);
		expect(await runInDurableObject(roomObject(other), (_i, state) => state.storage.sql.exec("SELECT id, sender FROM _baton_messages").toArray())).toEqual([
			{ id: "x1", sender: "alice" },
		]);
		// Only baton's own tables, by their old names: nothing else is read this way.
		const refused = await runInDurableObject(roomObject(room), (instance) =>
			instance.exportTable("_cf_KV", 0).then(
				() => "exported",
				(e: unknown) => (e instanceof Error ? e.name : "?"),
			),
		);
		expect(refused).toBe("RangeError");
	});

	it("a new anchor migrates a room that does not know the current copy with the previous one", async () => {
		const room = uniqueRoom(`hk-${Scenario.Legacy}`);
		const alice = await join(room, "alice");
		for (const id of ["l1", "l2"]) {
			alice.socket.publish(id);
			await alice.socket.ack(id);
		}
		const res = await env.ANCHORS.get(env.ANCHORS.idFromName(room)).migrate(room, "apac");
		expect(res).toMatchObject({ ok: true, to: "apac", seq: 2, moved: 1 });
		expect((await alice.socket.closed()).code).toBe(CloseCode.RoomMoved);
		const back = await join(room, "alice", { resume: alice.welcome.resume, after: 2 });
		expect(back.welcome).toMatchObject({ resumed: true, home: "apac", seq: 2 });
		back.socket.publish("l1");
		expect(await back.socket.ack("l1")).toMatchObject({ seq: 1, dup: true });
		expect((await history(room, await tokenFor(room))).messages.map((m) => m.id)).toEqual(["l1", "l2"]);
		await leaveRoom(room, back.socket);
	});
});
