/** The Worker entry: the Hono gateway as `fetch`, and the Durable Object classes. */
import { createGateway } from "./gateway/app.ts";

export { RoomAnchor } from "../durable-objects/anchor/anchor.ts";
export { RoomRegistry } from "../durable-objects/registry/registry.ts";
export { Room } from "../durable-objects/room/room.ts";

export default createGateway();
