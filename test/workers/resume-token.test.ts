/**
 * Resume tokens as a per-session secret (CONTRACT.md §4): `<session>.<secret>`, the secret kept in
 * the session's row. The refusal matrix — another sub, another room, expired, altered in any
 * character, garbage, another session's secret — always starts a fresh session (`resumed:false`,
 * a new session id, never a 401) and never touches the owner's connection. Tokens signed before
 * the change (`<payload>.<hmac>`) still resume their sessions once, then give way to a secret.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { legacyResumeKey } from "../../durable-objects/room/resume-key.ts";
import { exportChunk, importChunk, TRANSFER_START, type TransferCursor } from "../../durable-objects/room/transfer.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import { signResumeToken } from "../../src/core/auth/resume-token.ts";
import { eventually, join, leaveRoom, muteInfoLogs, roomObject, SECRET, stats, type TestSocket, tokenFor, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

const TOKEN_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/;
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** `token` with the character at `at` replaced by another one of the same alphabet (hex stays hex). */
function flipAt(token: string, at: number): string {
	const c = token[at] ?? "";
	const i = BASE64URL.indexOf(c);
	const other = /[0-9a-f]/.test(c) && at < token.indexOf(".") ? (c === "0" ? "1" : "0") : (BASE64URL[i ^ 1] ?? "A");
	return token.slice(0, at) + other + token.slice(at + 1);
}

/**
 * Connects as `sub` with `resume` and expects a fresh session, then closes it; `open` (the
 * owner's socket and any other) must all stay open.
 */
async function expectFresh(room: string, sub: string, resume: string, ownerSession: string, ...open: TestSocket[]): Promise<void> {
	const { socket, welcome } = await join(room, sub, { resume });
	expect(welcome.resumed, `resume=${resume}`).toBe(false);
	expect(welcome.session).not.toBe(ownerSession);
	expect(welcome.resume).toMatch(TOKEN_SHAPE);
	socket.close();
	await eventually(
		() => stats(room),
		(s) => s.connections === open.length,
		`${room}: the fresh session's close handled`,
	);
	for (const other of open) expect(other.closeEvent, other.label).toBeUndefined();
}

describe("resume tokens", () => {
	it("are <session>.<secret>; the same token resumes its session again and again, and is returned unchanged", async () => {
		const room = uniqueRoom();
		const first = await join(room, "alice");
		expect(first.welcome.resume).toMatch(TOKEN_SHAPE);
		expect(first.welcome.resume.startsWith(`${first.welcome.session}.`)).toBe(true);
		first.socket.close(CloseCode.ClientReconnect);
		await first.socket.closed();
		const second = await join(room, "alice", { resume: first.welcome.resume });
		expect(second.welcome).toMatchObject({ resumed: true, session: first.welcome.session, resume: first.welcome.resume });
		const third = await join(room, "alice", { resume: second.welcome.resume });
		expect(third.welcome).toMatchObject({ resumed: true, session: first.welcome.session, resume: first.welcome.resume });
		expect((await second.socket.closed()).code).toBe(CloseCode.SessionReplaced);
		await leaveRoom(room, third.socket);
	});

	it("every fresh session gets its own secret", async () => {
		const room = uniqueRoom();
		const a = await join(room, "alice");
		const b = await join(room, "alice");
		const secret = (t: string) => t.slice(t.indexOf(".") + 1);
		expect(secret(a.welcome.resume)).not.toBe(secret(b.welcome.resume));
		await leaveRoom(room, a.socket, b.socket);
	});
});

describe("a resume token that does not hold starts a fresh session, never a 401, and leaves the owner alone", () => {
	it("presented with another sub's access token", async () => {
		const room = uniqueRoom();
		const owner = await join(room, "alice");
		await expectFresh(room, "mallory", owner.welcome.resume, owner.welcome.session, owner.socket);
		await leaveRoom(room, owner.socket);
	});

	it("presented in another room (same sub, a token granting both)", async () => {
		const room = uniqueRoom();
		const other = `${room}-other`;
		const token = await tokenFor(room, "alice", { rooms: [room, other] });
		const owner = await join(room, "alice", { token });
		const { socket, welcome } = await join(other, "alice", { token, resume: owner.welcome.resume });
		expect(welcome.resumed).toBe(false);
		expect(welcome.session).not.toBe(owner.welcome.session);
		expect(owner.socket.closeEvent).toBeUndefined();
		await leaveRoom(other, socket);
		await leaveRoom(room, owner.socket);
	});

	it("expired: its session's window ended", async () => {
		const room = uniqueRoom();
		const first = await join(room, "alice");
		first.socket.close();
		await first.socket.closed();
		await runInDurableObject(roomObject(room), (_i, state) => {
			state.storage.sql.exec("UPDATE _baton_sessions SET expires_at = ? WHERE id = ?", Date.now() - 1, first.welcome.session);
		});
		await expectFresh(room, "alice", first.welcome.resume, first.welcome.session);
	});

	it("altered in any one character", { timeout: 60_000 }, async () => {
		const room = uniqueRoom();
		const owner = await join(room, "alice");
		const token = owner.welcome.resume;
		for (let at = 0; at < token.length; at++) {
			if (token[at] === "." || token[at] === "-") continue;
			const altered = flipAt(token, at);
			expect(altered).not.toBe(token);
			await expectFresh(room, "alice", altered, owner.welcome.session, owner.socket);
		}
		await leaveRoom(room, owner.socket);
	});

	it.each([
		["garbage", () => "garbage"],
		["empty secret", (t: string) => t.slice(0, t.indexOf(".") + 1)],
		["secret only", (t: string) => t.slice(t.indexOf(".") + 1)],
		["a character too many", (t: string) => `${t}A`],
		["a character too few", (t: string) => t.slice(0, -1)],
		["a second dot", (t: string) => `${t}.x`],
		["upper-case session", (t: string) => t.toUpperCase()],
	])("malformed: %s", async (_name, make) => {
		const room = uniqueRoom();
		const owner = await join(room, "alice");
		await expectFresh(room, "alice", make(owner.welcome.resume), owner.welcome.session, owner.socket);
		await leaveRoom(room, owner.socket);
	});

	it("another session's secret under this session's id", async () => {
		const room = uniqueRoom();
		const owner = await join(room, "alice");
		const other = await join(room, "alice");
		const forged = `${owner.welcome.session}.${other.welcome.resume.slice(other.welcome.resume.indexOf(".") + 1)}`;
		await expectFresh(room, "alice", forged, owner.welcome.session, owner.socket, other.socket);
		await leaveRoom(room, owner.socket, other.socket);
	});
});

describe("tokens signed before resume secrets (<payload>.<hmac>)", () => {
	/** A session as the room stored it before: no secret. */
	async function legacySession(room: string, sub: string): Promise<string> {
		const session = crypto.randomUUID();
		await runInDurableObject(roomObject(room), (_i, state) => {
			state.storage.sql.exec(
				"INSERT INTO _baton_sessions (id, sub, name, expires_at, secret) VALUES (?, ?, ?, ?, NULL)",
				session,
				sub,
				sub,
				Date.now() + 60_000,
			);
		});
		return session;
	}

	it("resume their session once and get a secret token in exchange; the signed token then starts a fresh session", async () => {
		const room = uniqueRoom();
		const session = await legacySession(room, "alice");
		const legacy = await signResumeToken({ room, sub: "alice", session, exp: Number.MAX_SAFE_INTEGER }, SECRET);
		const back = await join(room, "alice", { resume: legacy });
		expect(back.welcome).toMatchObject({ resumed: true, session });
		expect(back.welcome.resume).toMatch(TOKEN_SHAPE);
		back.socket.close(CloseCode.ClientReconnect);
		await back.socket.closed();
		await expectFresh(room, "alice", legacy, session);
		const again = await join(room, "alice", { resume: back.welcome.resume });
		expect(again.welcome).toMatchObject({ resumed: true, session });
		await leaveRoom(room, again.socket);
	});

	it("are checked with BATON_JWT_SECRET, else with the key the room kept (JWKS-only deployments); no key is made any more", async () => {
		const room = uniqueRoom();
		const keys = await runInDurableObject(roomObject(room), (_i, state) => {
			const sql = state.storage.sql;
			const none = legacyResumeKey(sql, null);
			const rowsAfter = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM _baton_keys").one().n;
			sql.exec("INSERT INTO _baton_keys (name, value) VALUES ('resume', 'kept-key')");
			return { none, rowsAfter, kept: legacyResumeKey(sql, null), secret: legacyResumeKey(sql, SECRET) };
		});
		expect(keys).toEqual({ none: null, rowsAfter: 0, kept: "kept-key", secret: SECRET });
	});

	it("signed with another key start a fresh session", async () => {
		const room = uniqueRoom();
		const session = await legacySession(room, "alice");
		const signed = await signResumeToken({ room, sub: "alice", session, exp: Number.MAX_SAFE_INTEGER }, "another-key-0123456789abcdef0123456789abcd");
		await expectFresh(room, "alice", signed, session);
	});

	it.each([
		["another sub", { sub: "mallory" }],
		["another room", { room: "elsewhere" }],
		["expired", { exp: Date.now() - 1 }],
	])("for %s start a fresh session", async (_name, change) => {
		const room = uniqueRoom();
		const session = await legacySession(room, "alice");
		const legacy = await signResumeToken({ room, sub: "alice", session, exp: Number.MAX_SAFE_INTEGER, ...change }, SECRET);
		await expectFresh(room, "alice", legacy, session);
	});
});

describe("migration copy", () => {
	it("a session's secret is in its row's copy, and a page from an older exporter (no secret column) imports with none", async () => {
		const from = uniqueRoom();
		const to = `${uniqueRoom()}@1`;
		const owner = await join(from, "alice");
		owner.socket.close(CloseCode.ClientReconnect);
		await owner.socket.closed();
		// The copy's pages, from the first, until the one carrying the sessions table's rows.
		const sessions = await runInDurableObject(roomObject(from), async (_i, state) => {
			let cursor: TransferCursor | null = TRANSFER_START;
			while (cursor !== null) {
				const page = await exportChunk(state.storage, cursor);
				if (page.chunk.kind === "rows" && page.chunk.table === "_baton_sessions") return page.chunk;
				cursor = page.next;
			}
			return null;
		});
		if (sessions === null) throw new Error("the copy carried no _baton_sessions rows");
		const secretAt = sessions.columns.indexOf("secret");
		expect(sessions.rows).toHaveLength(1);
		expect(sessions.rows[0]?.[secretAt]).toBe(owner.welcome.resume.slice(owner.welcome.resume.indexOf(".") + 1));
		const older = {
			kind: "rows" as const,
			table: "_baton_sessions",
			columns: ["id", "sub", "name", "expires_at"],
			rows: [["old-session", "bob", "bob", null]],
		};
		const rows = await runInDurableObject(roomObject(to), async (_i, state) => {
			await importChunk(state.storage, sessions);
			await importChunk(state.storage, older);
			return state.storage.sql.exec<{ id: string; secret: string | null }>("SELECT id, secret FROM _baton_sessions ORDER BY id").toArray();
		});
		expect(rows).toEqual([
			{ id: owner.welcome.session, secret: sessions.rows[0]?.[secretAt] },
			{ id: "old-session", secret: null },
		]);
	});
});
