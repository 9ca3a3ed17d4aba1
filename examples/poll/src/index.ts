/**
 * The poll example's Worker: baton's gateway with the poll's own routes beside baton's API, the
 * poll's room class, and the two Durable Objects baton needs. The page (public/) is served by
 * `[assets]`.
 */
import { createGateway, RoomAnchor, RoomRegistry } from "baton-rooms/server";
import { pollRoutes } from "./poll-routes.ts";

export { PollRoom } from "./poll-room.ts";
export { RoomAnchor, RoomRegistry };

export default createGateway({ room: "ROOMS", anchor: "ANCHORS", registry: "REGISTRY", pages: pollRoutes });
