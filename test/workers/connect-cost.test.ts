/**
 * What one connect costs the room in SQLite rows written (CONTRACT.md §7 kept with the fewest
 * writes; rows written are billed): counted with each cursor's `rowsWritten` over every
 * statement the room runs while the connect is served. A table keyed by TEXT has an index beside
 * it, so each insert there writes two rows (table + index) and an update of other columns one.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CloseCode } from "../../protocol/close-codes.ts";
import { eventually, join, leaveRoom, muteInfoLogs, roomObject, stats, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

interface Counted {
	rows: number;
	statements: string[];
}

/**
 * Wraps the room's `sql.exec` to remember every cursor; `read()` sums their `rowsWritten` (and
 * lists the writing statements) and removes the wrapper.
 */
async function countRowsWritten(room: string): Promise<{ read: () => Promise<Counted> }> {
	await runInDurableObject(roomObject(room), (_instance, state) => {
		const sql = state.storage.sql as SqlStorage & { __cursors?: Array<[string, SqlStorageCursor<Record<string, SqlStorageValue>>]> };
		const exec = sql.exec.bind(sql);
		sql.__cursors = [];
		Object.defineProperty(sql, "exec", {
			configurable: true,
			value: (query: string, ...bindings: SqlStorageValue[]) => {
				const cursor = exec(query, ...bindings);
				sql.__cursors?.push([query, cursor]);
				return cursor;
			},
		});
	});
	return {
		read: () =>
			runInDurableObject(roomObject(room), (_instance, state) => {
				const sql = state.storage.sql as SqlStorage & { __cursors?: Array<[string, SqlStorageCursor<Record<string, SqlStorageValue>>]> };
				const cursors = sql.__cursors ?? [];
				Reflect.deleteProperty(sql, "exec");
				delete sql.__cursors;
				const writing = cursors.filter(([, c]) => c.rowsWritten > 0);
				return {
					rows: writing.reduce((n, [, c]) => n + c.rowsWritten, 0),
					statements: writing.map(([q, c]) => `${c.rowsWritten} ${q.split(" ").slice(0, 3).join(" ")}`),
				};
			}),
	};
}

describe("rows written per connect", () => {
	it("a new sub's fresh connect writes its session row and its presence row (2 rows each, with their keys' index): 4", async () => {
		const room = uniqueRoom();
		const first = await join(room, "alice");
		const counter = await countRowsWritten(room);
		const bob = await join(room, "bob");
		const counted = await counter.read();
		expect(counted.statements).toEqual(["2 INSERT INTO _baton_sessions", "2 INSERT INTO _baton_presence"]);
		expect(counted.rows).toBe(4);
		await leaveRoom(room, first.socket, bob.socket);
	});

	it("a second connection of a sub already present writes its session row only: 2", async () => {
		const room = uniqueRoom();
		const first = await join(room, "alice");
		const counter = await countRowsWritten(room);
		const second = await join(room, "alice");
		const counted = await counter.read();
		expect(counted.statements).toEqual(["2 INSERT INTO _baton_sessions"]);
		expect(counted.rows).toBe(2);
		await leaveRoom(room, first.socket, second.socket);
	});

	it("a resume within the presence grace reopens the session and the presence row: 1 + 1", async () => {
		const room = uniqueRoom();
		const alice = await join(room, "alice");
		const bob = await join(room, "bob");
		bob.socket.close(CloseCode.ClientReconnect);
		await eventually(
			() => stats(room),
			(s) => s.connections === 1,
			"the room seeing bob's close",
		);
		const counter = await countRowsWritten(room);
		const back = await join(room, "bob", { resume: bob.welcome.resume });
		const counted = await counter.read();
		expect(back.welcome.resumed).toBe(true);
		expect(counted.statements).toEqual(["1 UPDATE _baton_sessions SET", "1 UPDATE _baton_presence SET"]);
		expect(counted.rows).toBe(2);
		await leaveRoom(room, alice.socket, back.socket);
	});

	it("a resume that replaces its session's open socket writes only the 4011 close's counter: 1", async () => {
		const room = uniqueRoom();
		const alice = await join(room, "alice");
		// The closes counter row for 4011 exists from here on: the replace below updates it.
		const warm = await join(room, "alice", { resume: alice.welcome.resume });
		expect((await alice.socket.closed()).code).toBe(CloseCode.SessionReplaced);
		const counter = await countRowsWritten(room);
		const again = await join(room, "alice", { resume: alice.welcome.resume });
		const counted = await counter.read();
		expect(again.welcome.resumed).toBe(true);
		expect((await warm.socket.closed()).code).toBe(CloseCode.SessionReplaced);
		expect(counted.statements).toEqual(["1 INSERT INTO _baton_closes"]);
		expect(counted.rows).toBe(1);
		await leaveRoom(room, again.socket);
	});
});
