/**
 * The Worker entry: the Hono gateway as `fetch`, and the Durable Object classes. The repo's own
 * Worker is a consumer of the server API like any app: its room extends `BatonRoom` and adds
 * nothing; its own pages are the demo chat (src/demo/).
 */
import { BatonRoom, createGateway } from "../server/index.ts";
import { demo } from "./demo/routes.ts";

export { RoomAnchor, RoomRegistry } from "../server/index.ts";

export class Room extends BatonRoom<Env> {}

export default createGateway({ pages: demo });
