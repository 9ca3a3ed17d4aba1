/**
 * The gateway's view of the Worker's Durable Object namespaces, under the names the app chose
 * (core/bindings.ts), typed as baton's own classes: the gateway calls only their RPC methods, which
 * an app's subclass of BatonRoom inherits unchanged.
 */
import type { RoomAnchor } from "../../durable-objects/anchor/anchor.ts";
import type { BatonRoom } from "../../durable-objects/room/baton-room.ts";
import { routingBindings } from "../core/bindings.ts";

export function gatewayBindings(env: unknown) {
	return routingBindings<BatonRoom<unknown>, RoomAnchor>(env);
}
