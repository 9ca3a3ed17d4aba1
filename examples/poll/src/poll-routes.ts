/**
 * The poll's own HTTP routes, served by the gateway beside baton's API (`createGateway({ pages })`):
 * - `GET /api/poll`: the question and the options, for the page;
 * - `POST /api/polls/:room/results` (the poll owner's action, with `Authorization: Bearer
 *   <BATON_ADMIN_TOKEN>`): posts the current results into the room from the server, with
 *   `roomClient(env.ROOMS, room).publish`. The room counts them (poll-room.ts) wherever it lives.
 */

import { env } from "cloudflare:workers";
import { ErrorCode, isValidRoomName } from "baton-rooms/protocol";
import { type GatewayEnv, RoomPublishError, roomClient } from "baton-rooms/server";
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { OPTIONS, QUESTION } from "./poll.ts";

/** Who posts results: the server, as `from` in the message. */
export const RESULTS_FROM = "poll";

export const pollRoutes = new Hono<GatewayEnv>();

pollRoutes.get("/api/poll", (c) => c.json({ question: QUESTION, options: OPTIONS }));

pollRoutes.post("/api/polls/:room/results", async (c, next) => {
	const token = env.BATON_ADMIN_TOKEN;
	// No owner token configured: the route does not exist.
	if (typeof token !== "string" || token === "") return c.json({ error: { code: ErrorCode.NotFound, message: "not found" } }, 404);
	return bearerAuth<GatewayEnv>({ token })(c, next);
});

pollRoutes.post("/api/polls/:room/results", async (c) => {
	const room = c.req.param("room");
	if (!isValidRoomName(room)) return c.json({ error: { code: ErrorCode.BadRoom, message: "bad room name" } }, 400);
	try {
		const { seq } = await roomClient(env.ROOMS, room).publish({ type: "results" }, { from: RESULTS_FROM });
		return c.json({ seq });
	} catch (error) {
		// room_moving during a migration's freeze: the caller may try again shortly.
		if (error instanceof RoomPublishError)
			return c.json({ error: { code: error.code, message: error.message } }, error.code === ErrorCode.RoomMoving ? 503 : 500);
		throw error;
	}
});
