/**
 * The Worker the workers project runs (vitest.config.ts `main`): the repo's own Worker, plus the
 * test room class, which vitest.config.ts binds as ROOMS in place of `Room`.
 */
export { default, Room, RoomAnchor, RoomRegistry } from "../../src/index.ts";
export { TestRoom } from "../fixtures/test-rooms.ts";
