/**
 * Local-development helpers for the demo page, enabled only with BATON_DEV_TOKENS=true (set in
 * .dev.vars.example, never in production): mint a short-lived token, and drain a room without
 * handing the admin token to a browser.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { ErrorCode } from "../../../protocol/error-codes.ts";
import { isValidRoomName } from "../../../protocol/paths.ts";
import { isValidSub } from "../../core/auth/claims.ts";
import { signAccessToken } from "../../core/auth/sign.ts";
import { errorResponse } from "../../core/http-errors.ts";
import { resolveRoom } from "../../core/routing.ts";
import { gatewayBindings } from "../bindings.ts";
import type { GatewayEnv } from "../context.ts";

/** Lifetime of a demo token. */
const DEV_TOKEN_TTL_SECONDS = 3600;

export const dev = new Hono<GatewayEnv>();

const devOnly = createMiddleware<GatewayEnv>(async (c, next) => {
	if (!c.get("config").devTokens) return errorResponse(ErrorCode.NotFound, "not found");
	await next();
});

dev.use("/dev/*", devOnly);

dev.get("/dev/token", async (c) => {
	const secret = c.get("config").jwtSecret;
	if (secret === null) return errorResponse(ErrorCode.ServerMisconfigured, "the server is misconfigured");
	const sub = c.req.query("sub") ?? "";
	const room = c.req.query("room") ?? "";
	if (!isValidSub(sub) || !isValidRoomName(room)) return errorResponse(ErrorCode.BadRequest, "sub (1-128 chars) and a valid room are required");
	const name = c.req.query("name");
	const exp = Math.floor(Date.now() / 1000) + DEV_TOKEN_TTL_SECONDS;
	const token = await signAccessToken({ sub, exp, rooms: [room], ...(name ? { name } : {}) }, secret);
	return c.json({ token, exp });
});

dev.post("/dev/rooms/:room/drain", async (c) => {
	const room = c.req.param("room");
	if (!isValidRoomName(room)) return errorResponse(ErrorCode.BadRoom, "bad room name");
	const { stub } = await resolveRoom(gatewayBindings(c.env), room, c.get("region"));
	return c.json(await stub.drain(room));
});
