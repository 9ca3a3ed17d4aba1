/**
 * Which Durable Object serves a room. One object per room name, created with the room's home
 * region as its location hint (the hint only matters the first time an object is created).
 */
import type { Env } from "./env.ts";

export function roomStub(env: Env, room: string, home: string): DurableObjectStub<import("../durable-objects/room/room.ts").Room> {
	const id = env.ROOMS.idFromName(room);
	return env.ROOMS.get(id, { locationHint: home as DurableObjectLocationHint });
}
