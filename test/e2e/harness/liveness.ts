/**
 * Helpers for the liveness, presence and idle-cost tests: a `ping` keep-alive loop, typed room
 * stats, and the room's `room_wake` log lines.
 */
import { afterEach, beforeEach } from "vitest";
import WebSocket from "ws";
import type { RoomStats } from "../../../durable-objects/room/types.ts";
import { PING } from "../../../protocol/messages.ts";
import type { TestClient } from "./client.ts";
import type { DevServer, LogLine } from "./server.ts";

/**
 * Sends the literal text frame `ping` every `everyMs` (the runtime answers `pong` without waking
 * the room). Returns a function that stops the loop.
 */
export function keepAlive(client: TestClient, everyMs = 1000): () => void {
	const timer = setInterval(() => {
		if (client.ws.readyState === WebSocket.OPEN) client.ws.send(PING);
	}, everyMs);
	return () => clearInterval(timer);
}

/** `GET /v1/admin/rooms/:room/stats`, asserting a 200. */
export async function roomStats(server: DevServer, room: string): Promise<RoomStats> {
	const res = await server.admin("GET", `/v1/admin/rooms/${room}/stats`);
	if (res.status !== 200) throw new Error(`stats for ${room} answered ${res.status}: ${JSON.stringify(res.body)}`);
	return res.body as RoomStats;
}

/** The `room_wake` lines (one per construction of the room object) logged so far for `room`. */
export function roomWakes(server: DevServer, room: string): LogLine[] {
	return server.logs.filter((l) => l.event === "room_wake" && l.room === room);
}

/** Milliseconds since `start` (a `performance.now()` reading). */
export function since(start: number): number {
	return Math.round(performance.now() - start);
}

const RELOAD = /Reloading local server|Detected changes, restarted server/g;

/** How many times `wrangler dev` rebuilt and restarted the Worker since it started. */
export function reloadCount(server: DevServer): number {
	return server.output.match(RELOAD)?.length ?? 0;
}

/**
 * Registers hooks that fail a test, with a clear reason, when `wrangler dev` reloaded the Worker
 * while it ran: `wrangler dev` always watches the source tree, and a reload drops every socket
 * (1006) and rebuilds every room, which no liveness or presence assertion can survive.
 */
export function failOnReload(server: () => DevServer | undefined): void {
	const atStart = new Map<string, number>();
	beforeEach((ctx) => {
		const s = server();
		if (s) atStart.set(ctx.task.id, reloadCount(s));
	});
	afterEach((ctx) => {
		const s = server();
		const before = atStart.get(ctx.task.id);
		atStart.delete(ctx.task.id);
		if (s && before !== undefined && reloadCount(s) > before) {
			throw new Error("wrangler dev reloaded the Worker during this test (a watched source or asset file changed): its sockets were dropped; rerun");
		}
	});
}
