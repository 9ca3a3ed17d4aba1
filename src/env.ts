import type { RoomAnchor } from "../durable-objects/anchor/anchor.ts";
import type { RoomRegistry } from "../durable-objects/registry/registry.ts";
import type { Room } from "../durable-objects/room/room.ts";
import type { ConfigEnv } from "./config.ts";

/** The Worker's bindings: configuration vars/secrets plus the room namespace. */
export interface Env extends ConfigEnv {
	ROOMS: DurableObjectNamespace<Room>;
	ANCHORS: DurableObjectNamespace<RoomAnchor>;
	REGISTRY: DurableObjectNamespace<RoomRegistry>;
}
