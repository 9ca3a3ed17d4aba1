/** The Worker entry: the Hono gateway as `fetch`, and the Durable Object classes. */
import { createGateway } from "./gateway/app.ts";

export { Room } from "../durable-objects/room/room.ts";

export default createGateway();
