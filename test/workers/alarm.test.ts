/**
 * The room's one alarm (CONTRACT.md §2, §7): armed while sockets are open, absent for an empty
 * room, harmless when run twice, and the place where heartbeat timeouts and token expiry close
 * sockets. Time is moved by rewriting a socket's stored attachment, not by waiting.
 * (`evictDurableObject` is not in pool-workers 0.15.1: hibernation itself is covered by test/e2e.)
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RoomCounters, WAKE_FOLD_MS } from "../../durable-objects/room/stats.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { admin, eventually, join, LIMITS, leaveRoom, muteInfoLogs, nowSeconds, roomObject, stats, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

function pendingAlarm(room: string): Promise<number | null> {
	return runInDurableObject(roomObject(room), (_instance, state) => state.storage.getAlarm());
}

/** Rewrites every open socket's attachment (what the room persisted about each connection). */
function rewriteAttachments(room: string, change: (a: Record<string, unknown>) => void): Promise<number> {
	return runInDurableObject(roomObject(room), (_instance, state) => {
		const sockets = state.getWebSockets();
		for (const ws of sockets) {
			const a = ws.deserializeAttachment() as Record<string, unknown>;
			change(a);
			ws.serializeAttachment(a);
		}
		return sockets.length;
	});
}

describe("alarm arming", () => {
	it("a connect arms the alarm, no later than the heartbeat timeout", async () => {
		const room = uniqueRoom();
		const before = Date.now();
		const { socket } = await join(room);
		const alarm = await pendingAlarm(room);
		expect(alarm).not.toBeNull();
		expect(alarm ?? 0).toBeGreaterThan(before);
		expect(alarm ?? 0).toBeLessThanOrEqual(Date.now() + LIMITS.heartbeatTimeoutMs + 1000);
		socket.close();
	});

	it("an empty room has no alarm once its last socket closed", async () => {
		const room = uniqueRoom();
		const a = await join(room, "alice");
		const b = await join(room, "bob");
		a.socket.close();
		await a.socket.closed();
		expect(await pendingAlarm(room)).not.toBeNull();
		b.socket.close();
		await b.socket.closed();
		await eventually(
			() => pendingAlarm(room),
			(alarm) => alarm === null,
			"the alarm being deleted after the last close",
		);
		expect(await runDurableObjectAlarm(roomObject(room))).toBe(false);
		expect((await stats(room)).alarm).toBeNull();
	});

	it("a room emptied by the server (kick) has no alarm", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		await admin(`/rooms/${room}/kick`, { body: { sub: "alice" } });
		expect((await socket.closed()).code).toBe(CloseCode.Forbidden);
		expect(await pendingAlarm(room)).toBeNull();
	});

	it("a room that never had a socket has no alarm", async () => {
		const room = uniqueRoom();
		expect((await stats(room)).alarm).toBeNull();
		expect(await runDurableObjectAlarm(roomObject(room))).toBe(false);
	});
});

describe("alarm runs", () => {
	it("running the alarm twice in a row is harmless: sockets stay, nothing is sent, it stays armed", async () => {
		const room = uniqueRoom();
		const a = await join(room, "alice");
		const b = await join(room, "bob");
		await a.socket.presence("join", "bob");
		const seen = [a.socket.events.length, b.socket.events.length];
		expect(await runDurableObjectAlarm(roomObject(room))).toBe(true);
		expect(await runDurableObjectAlarm(roomObject(room))).toBe(true);
		// And a direct, unscheduled run on top.
		await runInDurableObject(roomObject(room), (instance) => instance.alarm());
		const s = await stats(room);
		expect(s).toMatchObject({ connections: 2, alarmRuns: 3, closes: {}, heartbeatTimeouts: 0 });
		expect(s.alarm).not.toBeNull();
		// Each run re-arms no sooner than one interval later (the check cadence bound).
		expect(s.alarm ?? 0).toBeGreaterThanOrEqual(Date.now() + LIMITS.heartbeatIntervalMs - 1000);
		a.socket.publish("still-open");
		await a.socket.ack("still-open");
		await b.socket.message(1);
		const newFrames = (socket: typeof a.socket, from: number) => socket.events.slice(from).map((e) => (e.kind === "frame" ? e.frame?.type : e.kind));
		expect(newFrames(a.socket, seen[0] ?? 0).sort()).toEqual(["ack", "message"]);
		expect(newFrames(b.socket, seen[1] ?? 0)).toEqual(["message"]);
		a.socket.close();
		b.socket.close();
	});

	it("closes a socket silent beyond HEARTBEAT_TIMEOUT_MS with 4008 and counts it", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		expect(await rewriteAttachments(room, (a) => Object.assign(a, { lastSeen: Date.now() - LIMITS.heartbeatTimeoutMs - 5000 }))).toBe(1);
		expect(await runDurableObjectAlarm(roomObject(room))).toBe(true);
		const closed = await socket.closed();
		expect(closed.code).toBe(CloseCode.HeartbeatTimeout);
		expect(JSON.parse(closed.reason)).toEqual({ code: "heartbeat_timeout" });
		const s = await stats(room);
		expect(s).toMatchObject({ connections: 0, heartbeatTimeouts: 1, closes: { [String(CloseCode.HeartbeatTimeout)]: 1 }, alarm: null });
	});

	it("an auto-answered ping counts as life: a pinging socket is not timed out", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		socket.send("ping");
		await socket.next((e) => e.kind === "frame" && e.text === "pong", { what: "pong" });
		await rewriteAttachments(room, (a) => Object.assign(a, { lastSeen: Date.now() - LIMITS.heartbeatTimeoutMs - 5000 }));
		expect(await runDurableObjectAlarm(roomObject(room))).toBe(true);
		socket.publish("alive");
		await socket.ack("alive");
		expect(socket.closeEvent).toBeUndefined();
		expect((await stats(room)).heartbeatTimeouts).toBe(0);
		socket.close();
	});

	it("closes a socket whose access token expired without refresh with 4001", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		await rewriteAttachments(room, (a) => Object.assign(a, { exp: nowSeconds() - 60 }));
		expect(await runDurableObjectAlarm(roomObject(room))).toBe(true);
		const closed = await socket.closed();
		expect(closed.code).toBe(CloseCode.Unauthorized);
		expect(JSON.parse(closed.reason)).toEqual({ code: ErrorCode.Unauthorized });
	});

	it("a frame from a socket whose token expired closes it with 4001 instead of being processed", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room, "alice");
		await rewriteAttachments(room, (a) => Object.assign(a, { exp: nowSeconds() - 60 }));
		socket.publish("too-late");
		expect((await socket.closed()).code).toBe(CloseCode.Unauthorized);
		expect((await stats(room)).seq).toBe(0);
	});
});

describe("stats counters", () => {
	const stored = (sql: SqlStorage) =>
		sql.exec<{ wakeups: number; alarm_runs: number }>("SELECT wakeups, alarm_runs FROM _baton_counters WHERE id = 1").toArray()[0] ?? {
			wakeups: 0,
			alarm_runs: 0,
		};

	it("fold a wake into the next counter write (an alarm run that woke the room writes one row), counting it once", async () => {
		const room = uniqueRoom();
		const { socket } = await join(room);
		await runInDurableObject(roomObject(room), (_instance, state) => {
			const sql = state.storage.sql;
			const counters = new RoomCounters(sql);
			const before = stored(sql);
			counters.countWakeup();
			// Held in memory, already visible in stats.
			expect(stored(sql)).toEqual(before);
			expect(counters.wakeups()).toBe(before.wakeups + 1);
			counters.countAlarmRun();
			expect(stored(sql)).toEqual({ wakeups: before.wakeups + 1, alarm_runs: before.alarm_runs + 1 });
			expect(counters.wakeups()).toBe(before.wakeups + 1);
		});
		await leaveRoom(room, socket);
	});

	it(`write a wake nothing else wrote within ${WAKE_FOLD_MS} ms on its own`, async () => {
		const room = uniqueRoom();
		const { socket } = await join(room);
		const read = () => runInDurableObject(roomObject(room), (_instance, state) => stored(state.storage.sql).wakeups);
		// The room's own construction is written first, so the count below can only be this wake.
		await eventually(read, (wakeups) => wakeups === 1, "the room's own wake", WAKE_FOLD_MS + 3000);
		const before = await runInDurableObject(roomObject(room), (_instance, state) => {
			const counters = new RoomCounters(state.storage.sql);
			const row = stored(state.storage.sql);
			counters.countWakeup();
			return row.wakeups;
		});
		await eventually(read, (wakeups) => wakeups === before + 1, "the wake written after the fold window", WAKE_FOLD_MS + 3000);
		await leaveRoom(room, socket);
	});
});
