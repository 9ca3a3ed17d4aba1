/**
 * The server extension API (CONTRACT.md §14), through the public entry `server/index.ts`: a room
 * class extending `BatonRoom` (test/fixtures/test-rooms.ts, bound as ROOMS) with hooks per
 * scenario. Every rule of §14: reject at connect, transform, reject at publish, a throwing or
 * silent hook, one connection's order with async hooks, duplicates never reaching the hook, an
 * id re-sent while in the hook, `roomClient`, a freeze during a hook, `this.moving`.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { RoomPublishError, roomClient } from "../../server/index.ts";
import { type HookCall, Scenario, type TestRoom } from "../fixtures/test-rooms.ts";
import {
	eventually,
	expectErrorResponse,
	expectRefusal,
	history,
	httpPublish,
	join,
	leaveRoom,
	openSocket,
	roomObject,
	type SocketEvent,
	type TestSocket,
	tokenFor,
	uniqueRoom,
} from "./helpers.ts";

/** The room's info log lines (muted, as muteInfoLogs does, but kept: some tests read them). */
const logLines: string[] = [];
beforeAll(() => {
	vi.spyOn(console, "log").mockImplementation((line: unknown) => {
		logLines.push(String(line));
	});
	vi.spyOn(console, "info").mockImplementation(() => {});
});

const hookRoom = (scenario: Scenario) => uniqueRoom(`hk-${scenario}`);

/** ROOMS is bound to TestRoom here (vitest.config.ts); the generated Env names the repo's `Room`. */
const testRooms = env.ROOMS as unknown as DurableObjectNamespace<TestRoom>;

/** Every hook call the room recorded, oldest first. */
function hookCalls(room: string, hook?: string): Promise<HookCall[]> {
	return runInDurableObject(roomObject(room), (_instance, state) => {
		const exists = state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hook_log'").toArray().length > 0;
		if (!exists) return [];
		const rows = state.storage.sql.exec<HookCall>("SELECT * FROM hook_log ORDER BY n").toArray();
		return hook === undefined ? rows : rows.filter((r) => r.hook === hook);
	});
}

/** Waits until the hook has been called for `id` (the publish is then inside it). */
function inHook(room: string, id: string): Promise<HookCall[]> {
	return eventually(
		() => hookCalls(room, "onPublish"),
		(calls) => calls.some((c) => c.id === id),
		`onPublish called for ${id}`,
	);
}

/** Waits for the room's log line saying a copy of `id` waits for its first copy's outcome. */
function copyWaits(room: string, id: string): Promise<unknown> {
	return eventually(
		async () => logLines.some((l) => l.includes('"publish_copy_waits"') && l.includes(`"room":"${room}"`) && l.includes(`"id":"${id}"`)),
		(seen) => seen,
		`a copy of ${id} waiting`,
	);
}

function openGate(room: string, id: string): Promise<boolean> {
	return runInDurableObject(roomObject(room), (instance: TestRoom) => instance.openGate(id));
}

/** The `error` frame answering `id`, whatever its code (an app's codes are not baton's, so parse the JSON). */
async function errorFrameFor(socket: TestSocket, id: string): Promise<Record<string, unknown>> {
	const isError = (e: SocketEvent) => e.kind === "frame" && typeof e.json === "object" && e.json !== null && Reflect.get(e.json, "type") === "error";
	const e = await socket.next((ev) => isError(ev) && Reflect.get((ev as { json: object }).json, "id") === id, { what: `error frame for ${id}` });
	return (e as { json: Record<string, unknown> }).json;
}

describe("onConnect", () => {
	it("a rejection closes the upgrade in-band with 4003 {code:forbidden}; the hook's code and message reach only the room's log", async () => {
		const room = hookRoom(Scenario.Gatekeeper);
		const refused = await openSocket(room, { token: await tokenFor(room, "mallory"), label: "mallory" });
		await expectRefusal(refused, CloseCode.Forbidden, { code: ErrorCode.Forbidden });
		expect((await refused.closed()).reason).not.toContain("not_welcome");
		const line = logLines.find((l) => l.includes('"connect_rejected"') && l.includes(room));
		expect(line === undefined ? null : JSON.parse(line)).toMatchObject({
			event: "connect_rejected",
			room,
			sub: "mallory",
			code: "not_welcome",
			message: "mallory may not enter",
		});

		// Others are admitted, and the hook saw who was asking, with the token's claims.
		const alice = await join(room, "alice");
		const [call] = (await hookCalls(room, "onConnect")).filter((c) => c.sub === "alice");
		expect(JSON.parse(call?.data ?? "null")).toMatchObject({ room, name: "alice", claims: { sub: "alice", rooms: [room], exp: expect.any(Number) } });
		await leaveRoom(room, alice.socket);
	});

	it("the hook sees every claim of the token, the app's own included, and can refuse on one (4003)", async () => {
		const room = hookRoom(Scenario.Gatekeeper);
		const claims = { banned: true, role: "moderator", org: { id: 7, plan: "team" } };
		const refused = await openSocket(room, { token: await tokenFor(room, "eve", claims), label: "eve" });
		await expectRefusal(refused, CloseCode.Forbidden, { code: ErrorCode.Forbidden });
		const [call] = (await hookCalls(room, "onConnect")).filter((c) => c.sub === "eve");
		expect(JSON.parse(call?.data ?? "null")).toMatchObject({ claims: { sub: "eve", rooms: [room], ...claims } });
		const line = logLines.find((l) => l.includes('"connect_rejected"') && l.includes('"sub":"eve"'));
		expect(line === undefined ? null : JSON.parse(line)).toMatchObject({ code: "banned", message: "eve is banned" });
		// The same sub with a token that does not say so is admitted.
		const eve = await join(room, "eve", { claims: { banned: false, role: "member" } });
		await leaveRoom(room, eve.socket);
	});

	it("a hook that throws, or does not answer within the hook timeout, refuses with 1011 {code:internal}; the room serves on", async () => {
		const room = hookRoom(Scenario.Gatekeeper);
		for (const sub of ["crash", "stall"]) {
			const socket = await openSocket(room, { token: await tokenFor(room, sub), label: sub });
			await expectRefusal(socket, CloseCode.InternalError, { code: ErrorCode.Internal });
		}
		const alice = await join(room, "alice");
		alice.socket.publish("a1");
		expect(await alice.socket.ack("a1")).toMatchObject({ seq: 1 });
		await leaveRoom(room, alice.socket);
	});
});

describe("onPublish", () => {
	it("{data} replaces what is stored, broadcast, acked and replayed; the hook sees room, sub, id, data and source", async () => {
		const room = hookRoom(Scenario.Editor);
		const alice = await join(room, "alice");
		const bob = await join(room, "bob");
		alice.socket.publish("t1", { text: "hello", n: 1 });
		expect(await alice.socket.ack("t1")).toEqual({ type: "ack", id: "t1", seq: 1, dup: false });
		expect(await bob.socket.message(1)).toMatchObject({ id: "t1", from: "alice", data: { text: "HELLO", n: 1 } });
		expect((await history(room, await tokenFor(room))).messages.map((m) => m.data)).toEqual([{ text: "HELLO", n: 1 }]);
		const [call] = await hookCalls(room, "onPublish");
		expect(call).toMatchObject({ sub: "alice", id: "t1", source: "socket", data: JSON.stringify({ text: "hello", n: 1 }) });
		await leaveRoom(room, alice.socket, bob.socket);
	});

	it("returning nothing stores the data as sent", async () => {
		const room = hookRoom(Scenario.Editor);
		const { socket } = await join(room, "alice");
		socket.publish("k1", { keep: true, text: "as is" });
		await socket.ack("k1");
		expect((await history(room, await tokenFor(room))).messages[0]?.data).toEqual({ keep: true, text: "as is" });
		await leaveRoom(room, socket);
	});

	it("a rejection answers {type:error, code:<its code>, message, id}, stores nothing, and is no protocol error", async () => {
		const room = hookRoom(Scenario.Editor);
		const { socket } = await join(room, "alice");
		// Ten rejections: were they protocol errors, the tenth would close the socket with 1008.
		for (let i = 0; i < 10; i++) {
			socket.publish(`r${i}`, { text: 42 });
			expect(await errorFrameFor(socket, `r${i}`)).toEqual({ type: "error", code: "invalid", message: "text required", id: `r${i}` });
		}
		socket.publish("ok", { text: "fine" });
		expect(await socket.ack("ok")).toMatchObject({ seq: 1 });
		expect(socket.closeEvent).toBeUndefined();
		expect((await history(room, await tokenFor(room))).messages.map((m) => m.id)).toEqual(["ok"]);
		await leaveRoom(room, socket);
	});

	it("an HTTP publish it rejects answers 422 {error:{code,message}} with its code; one it transforms answers {seq}", async () => {
		const room = hookRoom(Scenario.Editor);
		const token = await tokenFor(room, "alice");
		const res = await httpPublish(room, token, { id: "h1", data: { text: 7 } });
		expect(res.status).toBe(422);
		expect(await res.json()).toEqual({ error: { code: "invalid", message: "text required" } });
		const ok = await httpPublish(room, token, { id: "h2", data: { text: "yes" } });
		expect(await ok.json()).toEqual({ seq: 1 });
		expect((await hookCalls(room, "onPublish")).map((c) => [c.id, c.source])).toEqual([
			["h1", "http"],
			["h2", "http"],
		]);
		expect((await history(room, token)).messages[0]).toMatchObject({ id: "h2", from: "alice", data: { text: "YES" } });
	});

	it("a hook that throws fails that publish with error internal (HTTP 500 internal); the connection and the room carry on", async () => {
		const room = hookRoom(Scenario.Editor);
		const { socket } = await join(room, "alice");
		socket.publish("b1", { boom: true });
		expect(await socket.error(ErrorCode.Internal)).toEqual({ type: "error", code: "internal", message: expect.any(String), id: "b1" });
		await expectErrorResponse(await httpPublish(room, await tokenFor(room, "bob"), { id: "b2", data: { boom: true } }), 500, ErrorCode.Internal);
		socket.publish("b3", { text: "after" });
		expect(await socket.ack("b3")).toMatchObject({ seq: 1 });
		expect(socket.closeEvent).toBeUndefined();
		await leaveRoom(room, socket);
	});

	it("a hook that never settles fails its publish with internal after the hook timeout, and the next publish goes through", async () => {
		const room = hookRoom(Scenario.Editor);
		const { socket } = await join(room, "alice");
		const started = Date.now();
		socket.publish("slow", { hang: true });
		socket.publish("next", { text: "queued behind it" });
		expect(await socket.error(ErrorCode.Internal)).toMatchObject({ id: "slow" });
		// TestRoom.hookTimeoutMs is 300 ms (BatonRoom's default is 5 s).
		expect(Date.now() - started).toBeGreaterThanOrEqual(300);
		expect(await socket.ack("next")).toMatchObject({ seq: 1 });
		await leaveRoom(room, socket);
	});

	it("an answer it cannot use (a reserved or malformed code, data that is not JSON) fails the publish with internal", async () => {
		const room = hookRoom(Scenario.Editor);
		const { socket } = await join(room, "alice");
		const cases: Array<[string, unknown]> = [
			["reserved", { rejectWith: ErrorCode.RateLimited }],
			["moving", { rejectWith: ErrorCode.RoomMoving }],
			["shouty", { rejectWith: "Not Snake Case" }],
			["fn", { bad: "data" }],
		];
		for (const [id, data] of cases) {
			socket.publish(id, data);
			expect(await socket.error(ErrorCode.Internal), id).toMatchObject({ id });
		}
		expect((await history(room, await tokenFor(room))).messages).toEqual([]);
		await leaveRoom(room, socket);
	});

	it("duplicates never reach it: a re-sent id is acked dup:true with the first seq, and the hook ran once", async () => {
		const room = hookRoom(Scenario.Editor);
		const { socket } = await join(room, "alice");
		socket.publish("d1", { text: "once" });
		expect(await socket.ack("d1")).toMatchObject({ seq: 1, dup: false });
		socket.publish("d1", { text: "twice" });
		expect(await socket.ack("d1")).toEqual({ type: "ack", id: "d1", seq: 1, dup: true });
		const token = await tokenFor(room, "bob");
		for (let i = 0; i < 2; i++) expect((await httpPublish(room, token, { id: "hd", data: { text: "x" } })).headers.get("X-Baton-Dup")).toBe(String(i === 1));
		expect((await hookCalls(room, "onPublish")).map((c) => c.id)).toEqual(["d1", "hd"]);
		await leaveRoom(room, socket);
	});

	it("keeps one connection's publishes in send order while the hook awaits random delays (50 publishes, two connections interleaved)", {
		timeout: 30_000,
	}, async () => {
		const room = hookRoom(Scenario.Editor);
		const alice = await join(room, "alice");
		const bob = await join(room, "bob");
		const N = 25;
		for (let k = 0; k < N; k++) {
			alice.socket.publish(`a${k}`, { text: `a${k}`, n: k, delay: Math.floor(Math.random() * 15) });
			bob.socket.publish(`b${k}`, { text: `b${k}`, n: k, delay: Math.floor(Math.random() * 15) });
		}
		await Promise.all([alice.socket.ack(`a${N - 1}`, { timeoutMs: 20_000 }), bob.socket.ack(`b${N - 1}`, { timeoutMs: 20_000 })]);
		const messages = (await history(room, await tokenFor(room), "?limit=500")).messages;
		expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 2 * N }, (_, i) => i + 1));
		for (const sub of ["alice", "bob"]) {
			const mine = messages.filter((m) => m.from === sub).map((m) => (m.data as { n: number }).n);
			expect(mine, sub).toEqual(Array.from({ length: N }, (_, k) => k));
		}
		// One call per publish: the queue never ran a publish twice or concurrently with its predecessor.
		expect((await hookCalls(room, "onPublish")).length).toBe(2 * N);
		await leaveRoom(room, alice.socket, bob.socket);
	});

	it("an id re-sent (on a resumed connection) while its first copy is in the hook waits for that outcome and is stored once", async () => {
		const room = hookRoom(Scenario.Editor);
		const first = await join(room, "alice");
		first.socket.publish("g1", { gate: true, text: "held" });
		await inHook(room, "g1");
		// The client resumes (its old socket is replaced, the ack it waited for lost) and re-sends.
		const again = await join(room, "alice", { resume: first.welcome.resume });
		expect((await first.socket.closed()).code).toBe(CloseCode.SessionReplaced);
		again.socket.publish("g1", { gate: true, text: "held" });
		await copyWaits(room, "g1");
		expect(await openGate(room, "g1")).toBe(true);
		expect(await again.socket.ack("g1")).toEqual({ type: "ack", id: "g1", seq: 1, dup: true });
		expect((await history(room, await tokenFor(room))).messages.map((m) => m.id)).toEqual(["g1"]);
		expect((await hookCalls(room, "onPublish")).filter((c) => c.id === "g1")).toHaveLength(1);
		await leaveRoom(room, again.socket);
	});

	it("two HTTP publishes of one id while the first is in the hook: one stored, the other answered with its seq as a duplicate", async () => {
		const room = hookRoom(Scenario.Editor);
		const token = await tokenFor(room, "alice");
		const firstCall = httpPublish(room, token, { id: "hg", data: { gate: true, text: "x" } });
		await inHook(room, "hg");
		const secondCall = httpPublish(room, token, { id: "hg", data: { gate: true, text: "x" } });
		// The second waits for the first's outcome: it never reaches the hook.
		await copyWaits(room, "hg");
		expect(await openGate(room, "hg")).toBe(true);
		const [a, b] = await Promise.all([firstCall, secondCall]);
		expect([await a.json(), await b.json()]).toEqual([{ seq: 1 }, { seq: 1 }]);
		expect([a.headers.get("X-Baton-Dup"), b.headers.get("X-Baton-Dup")]).toEqual(["false", "true"]);
		expect((await hookCalls(room, "onPublish")).filter((c) => c.id === "hg")).toHaveLength(1);
	});

	it("a freeze that begins while a hook runs turns that publish into room_moving; nothing is stored", async () => {
		const room = hookRoom(Scenario.Editor);
		const { socket } = await join(room, "alice");
		socket.publish("f1", { gate: true, text: "late" });
		await inHook(room, "f1");
		await roomObject(room).freeze(room);
		expect(await runInDurableObject(roomObject(room), (instance: TestRoom) => instance.moving)).toBe(true);
		expect(await openGate(room, "f1")).toBe(true);
		expect(await socket.error(ErrorCode.RoomMoving)).toMatchObject({ id: "f1" });
		expect((await history(room, await tokenFor(room))).messages).toEqual([]);
		await roomObject(room).unfreeze();
		expect(await runInDurableObject(roomObject(room), (instance: TestRoom) => instance.moving)).toBe(false);
		socket.publish("f2", { text: "now" });
		expect(await socket.ack("f2")).toMatchObject({ seq: 1 });
		await leaveRoom(room, socket);
	});
});

describe("onJoin and onLeave", () => {
	it("are told of a sub's join and, once its grace has passed, its leave", async () => {
		const room = hookRoom(Scenario.Presence);
		const alice = await join(room, "alice");
		const bob = await join(room, "bob", { claims: { name: "Bob" } });
		await alice.socket.presence("join", "bob");
		// 4000: a loss, so the grace applies (a 1000 is a goodbye: below).
		bob.socket.close(CloseCode.ClientReconnect);
		// Bob's grace started when his socket went; end it now instead of waiting it out.
		await eventually(
			() =>
				runInDurableObject(
					roomObject(room),
					(_i, state) =>
						state.storage.sql.exec(`UPDATE _baton_presence SET leave_at = ? WHERE sub = 'bob' AND leave_at IS NOT NULL`, Date.now() - 1).rowsWritten,
				),
			(written) => written === 1,
			"bob's grace started",
		);
		await runInDurableObject(roomObject(room), (instance) => instance.alarm());
		await alice.socket.presence("leave", "bob");
		const calls = await eventually(
			() => hookCalls(room),
			(c) => c.length === 3,
			"the leave",
		);
		expect(calls.map((c) => [c.hook, c.sub, JSON.parse(c.data ?? "null")])).toEqual([
			["onJoin", "alice", "alice"],
			["onJoin", "bob", "Bob"],
			["onLeave", "bob", "Bob"],
		]);
		await leaveRoom(room, alice.socket);
	});

	it("are told of a goodbye's leave (the client's own 1000) at once, without waiting for the grace", async () => {
		const room = hookRoom(Scenario.Presence);
		const alice = await join(room, "alice");
		const bob = await join(room, "bob", { claims: { name: "Bob" } });
		await alice.socket.presence("join", "bob");
		bob.socket.close(1000);
		await alice.socket.presence("leave", "bob");
		const calls = await eventually(
			() => hookCalls(room),
			(c) => c.length === 3,
			"the leave",
		);
		expect(calls.map((c) => [c.hook, c.sub])).toEqual([
			["onJoin", "alice"],
			["onJoin", "bob"],
			["onLeave", "bob"],
		]);
		await leaveRoom(room, alice.socket);
	});
});

describe("roomClient", () => {
	it("publish is deduped by (from, id), reaches onPublish as source server, and is broadcast from `from`", async () => {
		const room = hookRoom(Scenario.Editor);
		const { socket } = await join(room, "alice");
		const client = roomClient(testRooms, room);
		expect(await client.publish({ text: "results" }, { id: "r-1", from: "bot" })).toEqual({ seq: 1, dup: false });
		expect(await client.publish({ text: "results again" }, { id: "r-1", from: "bot" })).toEqual({ seq: 1, dup: true });
		// Another `from` is another dedupe scope; no id is a new message each time.
		expect(await client.publish({ text: "other" }, { id: "r-1", from: "scheduler" })).toEqual({ seq: 2, dup: false });
		expect(await client.publish({ text: "anon" })).toEqual({ seq: 3, dup: false });
		expect(await socket.message(1)).toMatchObject({ id: "r-1", from: "bot", data: { text: "RESULTS" } });
		expect(await socket.message(3)).toMatchObject({ from: "server", data: { text: "ANON" } });
		expect((await hookCalls(room, "onPublish")).map((c) => [c.sub, c.source])).toEqual([
			["bot", "server"],
			["scheduler", "server"],
			["server", "server"],
		]);
		await leaveRoom(room, socket);
	});

	it("publish rejects with a RoomPublishError carrying the hook's code, or baton's for a bad request", async () => {
		const room = hookRoom(Scenario.Editor);
		const client = roomClient(testRooms, room);
		const rejected = await client.publish({ text: 1 }, { id: "x" }).catch((e: unknown) => e);
		expect(rejected).toBeInstanceOf(RoomPublishError);
		expect(rejected).toMatchObject({ code: "invalid", rejected: true, message: "text required" });
		const bad = await client.publish(undefined).catch((e: unknown) => e);
		expect(bad).toMatchObject({ code: ErrorCode.BadRequest, rejected: false });
		expect(() => roomClient(testRooms, "-bad")).toThrow(TypeError);
	});

	it("stub() is the room's current stub: the app's own RPC methods answer from its home, after a migration too", async () => {
		const room = hookRoom(Scenario.Ledger);
		const alice = await join(room, "alice");
		const client = roomClient(testRooms, room);
		expect(await (await client.stub()).visitors()).toEqual(["alice"]);
		await leaveRoom(room, alice.socket);
		const res = await env.ANCHORS.get(env.ANCHORS.idFromName(room)).migrate(room, "weur");
		expect(res).toMatchObject({ ok: true, to: "weur" });
		const stub = await roomClient(testRooms, room).stub();
		expect((await stub.info(room)).home).toBe("weur");
		expect(await stub.visitors()).toEqual(["alice"]);
	});
});

describe("close codes stay baton's", () => {
	it("a socket whose publish waits in the hook still closes like any other (1009 for an oversized frame)", async () => {
		const room = hookRoom(Scenario.Editor);
		const { socket } = await join(room, "alice");
		socket.publish("held", { gate: true, text: "x" });
		await inHook(room, "held");
		socket.send("x".repeat(5000));
		expect((await socket.closed()).code).toBe(CloseCode.MessageTooBig);
		expect(await openGate(room, "held")).toBe(true);
		// Its publish is still stored (its client re-sends it after resuming and gets dup:true).
		const token = await tokenFor(room);
		const page = await eventually(
			() => history(room, token),
			(p) => p.messages.length === 1,
			"the held publish stored",
		);
		expect(page.messages.map((m) => m.id)).toEqual(["held"]);
	});
});
