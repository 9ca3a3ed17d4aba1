/**
 * Registry of recently active rooms, for drain-all before a deploy. Sharded by room name so no
 * single object sees every room's traffic; anchors touch it at most once a minute per room.
 */
import { DurableObject } from "cloudflare:workers";

export const REGISTRY_SHARDS = 16;

/** FNV-1a: a stable, cheap shard choice. */
export function registryShard(room: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < room.length; i++) {
		h ^= room.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return (h >>> 0) % REGISTRY_SHARDS;
}

export function registryStubForShard(env: Env, shard: number) {
	return env.REGISTRY.get(env.REGISTRY.idFromName(`registry-${shard}`));
}

export function registryStub(env: Env, room: string) {
	return registryStubForShard(env, registryShard(room));
}

export class RoomRegistry extends DurableObject<Env> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, seen INTEGER NOT NULL)");
	}

	async touch(room: string, now: number): Promise<void> {
		this.ctx.storage.sql.exec("INSERT INTO rooms (room, seen) VALUES (?, ?) ON CONFLICT(room) DO UPDATE SET seen = excluded.seen", room, now);
	}

	/** Rooms seen since `since` (ms); older entries are forgotten. */
	async list(since: number): Promise<string[]> {
		this.ctx.storage.sql.exec("DELETE FROM rooms WHERE seen < ?", since);
		return this.ctx.storage.sql
			.exec<{ room: string }>("SELECT room FROM rooms ORDER BY room")
			.toArray()
			.map((r) => r.room);
	}
}
