/**
 * The Worker entry: the Hono gateway as `fetch`, and the Durable Object classes. The repo's own
 * room is a consumer of the server API, like any app's: it extends `BatonRoom` and adds nothing.
 */
import { BatonRoom } from "../durable-objects/room/baton-room.ts";
import { createGateway } from "./gateway/app.ts";

export { RoomAnchor } from "../durable-objects/anchor/anchor.ts";
export { RoomRegistry } from "../durable-objects/registry/registry.ts";

export class Room extends BatonRoom<Env> {}

export default createGateway();
