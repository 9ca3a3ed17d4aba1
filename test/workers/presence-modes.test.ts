/**
 * Presence at any room size (CONTRACT.md §12) with PRESENCE_EVENTS_MAX = 4 (vitest.config.ts), so
 * count mode starts at the 5th sub and ends at ¾ · 4 = 3: exact frames and counts for event mode,
 * the join that crosses into count mode, the throttled `presence_count`, `presence_state` on the
 * way back, `presenceCount` in `welcome` and the info route, the paged presence route, and the
 * goodbye (a client's own 1000 close leaves at once; 4000 and other codes keep the grace).
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RoomInfo } from "../../durable-objects/room/types.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { ServerFrame } from "../../protocol/messages.ts";
import { api, eventually, expectErrorResponse, join, leaveRoom, muteInfoLogs, roomObject, stats, type TestSocket, tokenFor, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

const MAX = 4;
/** ¾ of the maximum, rounded down. */
const FLOOR = 3;
/** "at most once per second": receipt gaps may shrink by delivery jitter, never by more than this. */
const JITTER_MS = 150;

type Joined = Awaited<ReturnType<typeof join>>;

const entry = (sub: string) => ({ sub, name: sub });
/** Presence-related frames a socket received so far, in order. */
const presenceFrames = (s: TestSocket): ServerFrame[] =>
	s.frames().filter((f) => f.type === "presence" || f.type === "presence_count" || f.type === "presence_state");

/** Joins `subs` one after another; each waits until every earlier socket saw what it should. */
async function fill(room: string, subs: string[]): Promise<Joined[]> {
	const out: Joined[] = [];
	for (const sub of subs) out.push(await join(room, sub));
	return out;
}

/** Closes `socket` with `code` and waits until the room has handled it (`connections` dropped to `left`). */
async function closeAndSettle(room: string, socket: TestSocket, code: number, left: number): Promise<void> {
	socket.close(code);
	await eventually(
		() => stats(room),
		(s) => s.connections === left,
		`${room}: close ${code} handled`,
	);
}

/** The receipt time of each `presence_count` frame, in order. */
function countTimes(s: TestSocket): number[] {
	return s.events.flatMap((e, i) => (e.kind === "frame" && e.frame?.type === "presence_count" ? [s.times[i] ?? 0] : []));
}

describe("event mode (up to PRESENCE_EVENTS_MAX subs)", () => {
	it("each welcome lists everyone in join order with presenceCount and no presenceTruncated; the others get one join each", async () => {
		const room = uniqueRoom();
		const all = await fill(room, ["a", "b", "c", "d"]);
		all.forEach(({ welcome }, i) => {
			expect(welcome.presence).toEqual(["a", "b", "c", "d"].slice(0, i + 1).map(entry));
			expect(welcome.presenceCount).toBe(i + 1);
			expect("presenceTruncated" in welcome).toBe(false);
		});
		await all[0]?.socket.presence("join", "d");
		for (const [i, { socket }] of all.entries()) {
			await eventually(
				async () => presenceFrames(socket),
				(frames) => frames.length === 3 - i,
				`${socket.label}: a join for each later sub`,
			);
			expect(presenceFrames(socket)).toEqual(["b", "c", "d"].slice(i).map((sub) => ({ type: "presence", event: "join", ...entry(sub) })));
		}
		await leaveRoom(room, ...all.map((j) => j.socket));
	});

	it("presenceCount counts distinct subs: a sub's second connection is not a join and does not count twice", async () => {
		const room = uniqueRoom();
		const a = await join(room, "a");
		const a2 = await join(room, "a");
		expect(a2.welcome).toMatchObject({ presence: [entry("a")], presenceCount: 1 });
		const b = await join(room, "b");
		expect(b.welcome).toMatchObject({ presence: [entry("a"), entry("b")], presenceCount: 2 });
		await a.socket.presence("join", "b");
		expect(presenceFrames(a.socket)).toEqual([{ type: "presence", event: "join", ...entry("b") }]);
		await leaveRoom(room, a.socket, a2.socket, b.socket);
	});
});

describe("count mode (from the join that takes the count past PRESENCE_EVENTS_MAX)", () => {
	it("the 5th sub's welcome lists MAX subs, itself among them, with presenceTruncated; nobody gets its join; everyone gets presence_count 5", async () => {
		const room = uniqueRoom();
		const first = await fill(room, ["a", "b", "c", "d"]);
		for (const { socket } of first.slice(0, 3)) await socket.presence("join", "d");
		const e = await join(room, "e");
		expect(e.welcome.presence).toEqual([entry("a"), entry("b"), entry("c"), entry("e")]);
		expect(e.welcome.presence).toHaveLength(MAX);
		expect(e.welcome).toMatchObject({ presenceCount: 5, presenceTruncated: true });
		for (const { socket } of [...first, e]) {
			expect(await socket.nextFrame("presence_count")).toEqual({ type: "presence_count", count: 5 });
			expect(presenceFrames(socket).filter((f) => f.type === "presence" && f.sub === "e")).toEqual([]);
		}
		await leaveRoom(room, ...first.map((j) => j.socket), e.socket);
	});

	it("presence_count goes out at most once per second and the last change arrives within 2 s; joins and leaves send no presence frame", async () => {
		const room = uniqueRoom();
		const all = await fill(room, ["a", "b", "c", "d", "e"]);
		const watcher = all[0]?.socket as TestSocket;
		await watcher.nextFrame("presence_count", (f) => f.count === 5);
		const before = presenceFrames(watcher).length;
		// Three changes in quick succession: f arrives (6), leaves with a goodbye (5), arrives again (6).
		const f = await join(room, "f");
		expect(f.welcome).toMatchObject({ presenceCount: 6, presenceTruncated: true });
		await closeAndSettle(room, f.socket, 1000, 5);
		const f2 = await join(room, "f");
		const lastChange = Date.now();
		const last = await watcher.nextFrame("presence_count", (c) => c.count === 6, { timeoutMs: 4000 });
		expect(Date.now() - lastChange).toBeLessThanOrEqual(2000);
		expect(last).toEqual({ type: "presence_count", count: 6 });
		const counts = presenceFrames(watcher).slice(before);
		// No join or leave frame for f; the count frames end at the final count.
		expect(counts.every((c) => c.type === "presence_count")).toBe(true);
		expect(counts.at(-1)).toEqual({ type: "presence_count", count: 6 });
		const times = countTimes(watcher);
		expect(times.length).toBeGreaterThanOrEqual(2);
		for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(1000 - JITTER_MS);
		await leaveRoom(room, ...all.map((j) => j.socket), f2.socket);
	});

	it("a sub leaving after its grace in count mode changes the count, with no leave frame", async () => {
		const room = uniqueRoom();
		const all = await fill(room, ["a", "b", "c", "d", "e", "f"]);
		const watcher = all[0]?.socket as TestSocket;
		await watcher.nextFrame("presence_count", (c) => c.count === 6, { timeoutMs: 4000 });
		await closeAndSettle(room, all[5]?.socket as TestSocket, CloseCode.ClientReconnect, 5);
		await runInDurableObject(roomObject(room), (_i, state) => {
			state.storage.sql.exec("UPDATE _baton_presence SET leave_at = ? WHERE sub = 'f'", Date.now() - 1);
		});
		expect(await runDurableObjectAlarm(roomObject(room))).toBe(true);
		expect(await watcher.nextFrame("presence_count", (c) => c.count === 5, { timeoutMs: 4000 })).toEqual({ type: "presence_count", count: 5 });
		expect(presenceFrames(watcher).filter((f) => f.type === "presence")).toEqual(
			["b", "c", "d"].map((sub) => ({ type: "presence", event: "join", ...entry(sub) })),
		);
		await leaveRoom(room, ...all.slice(0, 5).map((j) => j.socket));
	});

	it("stays in count mode above ¾ of the maximum; at ¾ or below everyone gets presence_state, then joins and leaves again", async () => {
		const room = uniqueRoom();
		const all = await fill(room, ["a", "b", "c", "d", "e"]);
		const [a, b, c, d, e] = all as [Joined, Joined, Joined, Joined, Joined];
		await a.socket.nextFrame("presence_count", (x) => x.count === 5);
		await closeAndSettle(room, e.socket, 1000, 4);
		// 4 > 3: still count mode — no leave frame, and a welcome now is still truncated.
		const probe = await join(room, "d");
		expect(probe.welcome).toMatchObject({ presenceCount: 4, presenceTruncated: true });
		await closeAndSettle(room, probe.socket, CloseCode.ClientReconnect, 4);
		await closeAndSettle(room, d.socket, 1000, 3);
		const state = { type: "presence_state", presence: [entry("a"), entry("b"), entry("c")], count: FLOOR };
		for (const { socket } of [a, b, c]) expect(await socket.nextFrame("presence_state")).toEqual(state);
		// In count mode: no join for e, no leave for e or d.
		for (const { socket } of [a, b, c]) {
			expect(presenceFrames(socket).filter((f) => f.type === "presence" && (f.sub === "e" || f.event === "leave"))).toEqual([]);
		}
		// Event mode again: a join frame for x, a welcome listing everyone without presenceTruncated.
		const x = await join(room, "x");
		expect(x.welcome).toMatchObject({ presence: [entry("a"), entry("b"), entry("c"), entry("x")], presenceCount: 4 });
		expect("presenceTruncated" in x.welcome).toBe(false);
		for (const { socket } of [a, b, c]) expect(await socket.presence("join", "x")).toEqual({ type: "presence", event: "join", ...entry("x") });
		await closeAndSettle(room, x.socket, 1000, 3);
		for (const { socket } of [a, b, c]) expect(await socket.presence("leave", "x")).toEqual({ type: "presence", event: "leave", ...entry("x") });
		// Nothing of count mode follows presence_state: the pending count was dropped.
		for (const { socket } of [a, b, c]) {
			const frames = presenceFrames(socket);
			expect(frames.slice(frames.findIndex((f) => f.type === "presence_state") + 1).some((f) => f.type === "presence_count")).toBe(false);
		}
		await leaveRoom(room, a.socket, b.socket, c.socket);
	});
});

describe("GET /v1/rooms/:room bounds presence the same way", () => {
	const info = async (room: string): Promise<RoomInfo> => {
		const res = await api(`/v1/rooms/${room}`, { token: await tokenFor(room) });
		expect(res.status).toBe(200);
		return (await res.json()) as RoomInfo;
	};

	it("event mode: everyone and presenceCount, no presenceTruncated; count mode: MAX entries, presenceCount, presenceTruncated", async () => {
		const room = uniqueRoom();
		const all = await fill(room, ["a", "b", "c"]);
		const small = await info(room);
		expect(small).toMatchObject({ presence: ["a", "b", "c"].map(entry), presenceCount: 3, connections: 3 });
		expect("presenceTruncated" in small).toBe(false);
		all.push(...(await fill(room, ["d", "e"])));
		expect(await info(room)).toMatchObject({ presence: ["a", "b", "c", "d"].map(entry), presenceCount: 5, presenceTruncated: true, connections: 5 });
		await leaveRoom(room, ...all.map((j) => j.socket));
	});
});

describe("GET /v1/rooms/:room/presence", () => {
	const path = (room: string, query = "") => `/v1/rooms/${encodeURIComponent(room)}/presence${query}`;
	type Page = { presence: Array<{ sub: string; name: string }>; count: number; next: string | null };
	const page = async (room: string, query = ""): Promise<Page> => {
		const res = await api(path(room, query), { token: await tokenFor(room) });
		expect(res.status, await res.clone().text()).toBe(200);
		return (await res.json()) as Page;
	};

	/** Stores `n` presence rows (subs s0000…) directly: more than a room of 6 sockets can hold. */
	const seed = (room: string, n: number) =>
		runInDurableObject(roomObject(room), (_i, state) => {
			for (let i = n - 1; i >= 0; i--) {
				state.storage.sql.exec(
					"INSERT INTO _baton_presence (sub, name, joined_at, leave_at) VALUES (?, ?, ?, ?)",
					`s${String(i).padStart(4, "0")}`,
					`n${i}`,
					i,
					Date.now() + 60_000,
				);
			}
		});

	it("pages sorted by sub: limit defaults to 100 and is clamped to 1000; next pages on; count is everyone", async () => {
		const room = uniqueRoom();
		await seed(room, 1100);
		const first = await page(room);
		expect(first.presence).toHaveLength(100);
		expect(first.presence[0]).toEqual({ sub: "s0000", name: "n0" });
		expect(first.count).toBe(1100);
		expect(first.next).toEqual(expect.any(String));
		const big = await page(room, "?limit=5000");
		expect(big.presence).toHaveLength(1000);
		expect(big.presence.at(-1)?.sub).toBe("s0999");
		const rest = await page(room, `?limit=1000&cursor=${big.next}`);
		expect(rest.presence.map((p) => p.sub)).toEqual(Array.from({ length: 100 }, (_, i) => `s${String(1000 + i).padStart(4, "0")}`));
		expect(rest.next).toBeNull();
		expect(rest.count).toBe(1100);
	});

	it("walks every sub exactly once with a small limit, and the last page's next is null", async () => {
		const room = uniqueRoom();
		const all = await fill(room, ["zoe", "amy", "Bob", "émile", "amy2"]);
		const seen: string[] = [];
		let cursor: string | null = null;
		for (let i = 0; i < 10; i++) {
			const p: Page = await page(room, `?limit=2${cursor === null ? "" : `&cursor=${cursor}`}`);
			expect(p.count).toBe(5);
			seen.push(...p.presence.map((x) => x.sub));
			cursor = p.next;
			if (cursor === null) break;
		}
		expect(seen).toEqual(["Bob", "amy", "amy2", "zoe", "émile"]);
		await leaveRoom(room, ...all.map((j) => j.socket));
	});

	it("an empty room answers no one, count 0, next null", async () => {
		expect(await page(uniqueRoom())).toEqual({ presence: [], count: 0, next: null });
	});

	it.each([
		["limit=0", "?limit=0"],
		["limit=-1", "?limit=-1"],
		["limit=1.5", "?limit=1.5"],
		["limit=abc", "?limit=abc"],
		["an empty cursor", "?cursor="],
		["a cursor that is not base64url", "?cursor=%2B%2B"],
		["a cursor of invalid UTF-8", "?cursor=_w"],
		["a cursor longer than any sub", `?cursor=${btoa("s".repeat(129)).replaceAll("=", "")}`],
	])("%s answers 400 bad_request", async (_name, query) => {
		const room = uniqueRoom();
		await expectErrorResponse(await api(path(room, query), { token: await tokenFor(room) }), 400, ErrorCode.BadRequest);
	});

	it("is authorized like the other room routes: no token 401, another room's token 403, a bad room name 400", async () => {
		const room = uniqueRoom();
		await expectErrorResponse(await api(path(room)), 401, ErrorCode.Unauthorized);
		await expectErrorResponse(await api(path(room), { token: await tokenFor(`${room}-other`) }), 403, ErrorCode.Forbidden);
		await expectErrorResponse(await api(path("-bad"), { token: await tokenFor("-bad") }), 400, ErrorCode.BadRoom);
	});
});

describe("goodbye: a client's own 1000 close", () => {
	it("announces its sub's leave at once, without the grace; the session stays resumable and its return is a join", async () => {
		const room = uniqueRoom();
		const a = await join(room, "a");
		const b = await join(room, "b");
		await a.socket.presence("join", "b");
		b.socket.close(1000);
		expect(await a.socket.presence("leave", "b")).toEqual({ type: "presence", event: "leave", ...entry("b") });
		const back = await join(room, "b", { resume: b.welcome.resume });
		expect(back.welcome).toMatchObject({ resumed: true, session: b.welcome.session, presence: [entry("a"), entry("b")], presenceCount: 2 });
		expect(await a.socket.presence("join", "b")).toEqual({ type: "presence", event: "join", ...entry("b") });
		await leaveRoom(room, a.socket, back.socket);
	});

	it("of one of a sub's two connections is no leave: its other connection keeps it present", async () => {
		const room = uniqueRoom();
		const a = await join(room, "a");
		const b1 = await join(room, "b");
		const b2 = await join(room, "b");
		await closeAndSettle(room, b1.socket, 1000, 2);
		await closeAndSettle(room, b2.socket, CloseCode.ClientReconnect, 1);
		expect(presenceFrames(a.socket)).toEqual([{ type: "presence", event: "join", ...entry("b") }]);
		await leaveRoom(room, a.socket);
	});

	it.each([
		["4000 (the SDK replacing a socket)", CloseCode.ClientReconnect],
		["1001 (going away)", 1001],
		["4999 (any other code)", 4999],
	])("%s is a loss: the grace applies, and the leave comes from the alarm", async (_name, code) => {
		const room = uniqueRoom();
		const a = await join(room, "a");
		const b = await join(room, "b");
		await a.socket.presence("join", "b");
		await closeAndSettle(room, b.socket, code, 1);
		expect(presenceFrames(a.socket)).toEqual([{ type: "presence", event: "join", ...entry("b") }]);
		const row = await runInDurableObject(roomObject(room), (_i, state) =>
			state.storage.sql.exec<{ leave_at: number | null }>("SELECT leave_at FROM _baton_presence WHERE sub = 'b'").one(),
		);
		expect(row.leave_at ?? 0).toBeGreaterThan(Date.now());
		await runInDurableObject(roomObject(room), (_i, state) => {
			state.storage.sql.exec("UPDATE _baton_presence SET leave_at = ? WHERE sub = 'b'", Date.now() - 1);
		});
		expect(await runDurableObjectAlarm(roomObject(room))).toBe(true);
		expect(await a.socket.presence("leave", "b")).toEqual({ type: "presence", event: "leave", ...entry("b") });
		await leaveRoom(room, a.socket);
	});
});
