/**
 * baton's server API, `baton-rooms/server` (CONTRACT.md §14; docs/server-api.md): the room class
 * an app extends, the two Durable Objects baton needs beside it, the gateway, and `roomClient` for
 * the app's own Worker code.
 *
 * @example
 * import { BatonRoom, createGateway, RoomAnchor, RoomRegistry } from "baton-rooms/server";
 *
 * export class ChatRoom extends BatonRoom<Env> {}
 * export { RoomAnchor, RoomRegistry };
 * export default createGateway();
 */
import { createGateway as gateway } from "../src/gateway/app.ts";

export { RoomAnchor } from "../durable-objects/anchor/anchor.ts";
export { RoomRegistry } from "../durable-objects/registry/registry.ts";
export { BatonRoom } from "../durable-objects/room/baton-room.ts";
export type {
	ConnectDecision,
	ConnectingClient,
	HookRejection,
	PresenceMember,
	PublishDecision,
	PublishingMessage,
	PublishSource,
} from "../durable-objects/room/hooks.ts";
export {
	type RoomClient,
	type RoomClientOptions,
	RoomPublishError,
	roomClient,
	type ServerPublishOptions,
	type ServerPublishResult,
} from "../durable-objects/room/room-client.ts";
export { type BindingNames, configureBindings } from "../src/core/bindings.ts";
export type { GatewayOptions } from "../src/gateway/app.ts";
export type { GatewayEnv } from "../src/gateway/context.ts";

/**
 * The gateway Worker: a Hono app that authenticates every request and routes each room to its
 * Durable Object (docs/protocol.md §1, §3). Export it as the Worker's default. The room class is
 * bound as `ROOMS`, the anchor as `ANCHORS`, the registry as `REGISTRY`, unless the options name
 * other bindings; `pages` adds the app's own routes (served before baton's API).
 *
 * @example
 * import { createGateway } from "baton-rooms/server";
 * export default createGateway({ room: "ROOMS", anchor: "ANCHORS", registry: "REGISTRY" });
 *
 * @example
 * // The app's own pages beside baton's API:
 * import { Hono } from "hono";
 * const pages = new Hono().get("/", (c) => c.html("<h1>chat</h1>"));
 * export default createGateway({ pages });
 */
export const createGateway: typeof gateway = gateway;
