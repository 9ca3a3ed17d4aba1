/**
 * Registry of recently active rooms, for drain-all before a deploy. Sharded by room name so no
 * single object sees every room's traffic; anchors touch it at most once a minute per room.
 */
import { DurableObject } from "cloudflare:workers";
import { BindingName, namespaceOf } from "../../src/core/bindings.ts";
import { type Migration, migrate } from "../schema-migrations.ts";

export const REGISTRY_SHARDS = 16;

/** The registry's schema, as numbered migrations (../schema-migrations.ts). */
const REGISTRY_MIGRATIONS: readonly Migration[] = [
	{
		version: 1,
		why: "the rooms table as registries had it before the schema was versioned",
		statements: ["CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, seen INTEGER NOT NULL)"],
	},
];

/** FNV-1a: a stable, cheap shard choice. */
export function registryShard(room: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < room.length; i++) {
		h ^= room.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return (h >>> 0) % REGISTRY_SHARDS;
}

export function registryStubForShard(env: unknown, shard: number): DurableObjectStub<RoomRegistry> {
	const registry = namespaceOf<RoomRegistry>(env, BindingName.Registry);
	return registry.get(registry.idFromName(`registry-${shard}`));
}

export function registryStub(env: unknown, room: string): DurableObjectStub<RoomRegistry> {
	return registryStubForShard(env, registryShard(room));
}

/**
 * The registry Durable Object (sharded): rooms active within the resume window, for the admin
 * drain-all before a deploy. An app exports it unchanged and binds it as `REGISTRY`.
 *
 * @example
 * // src/index.ts
 * export { RoomRegistry } from "baton-rooms/server";
 * // wrangler.toml
 * // [[durable_objects.bindings]]
 * // name = "REGISTRY"
 * // class_name = "RoomRegistry"
 */
export class RoomRegistry extends DurableObject<unknown> {
	constructor(ctx: DurableObjectState, env: unknown) {
		super(ctx, env);
		migrate(ctx.storage, REGISTRY_MIGRATIONS);
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
