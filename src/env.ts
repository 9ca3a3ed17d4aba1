import type { Room } from "../durable-objects/room/room.ts";
import type { ConfigEnv } from "./config.ts";

/** The Worker's bindings: configuration vars/secrets plus the room namespace. */
export interface Env extends ConfigEnv {
	ROOMS: DurableObjectNamespace<Room>;
}
