/**
 * The chat example's Worker: baton's gateway in front of the chat's room class, and the two
 * Durable Objects baton needs beside it. The page (public/) is served by `[assets]`.
 */
import { createGateway, RoomAnchor, RoomRegistry } from "baton-rooms/server";

export { ChatRoom } from "./chat-room.ts";
export { RoomAnchor, RoomRegistry };

export default createGateway({ room: "ROOMS", anchor: "ANCHORS", registry: "REGISTRY" });
