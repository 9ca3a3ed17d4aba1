/**
 * Admin API (CONTRACT.md §3, §9): bearer `BATON_ADMIN_TOKEN`, compared in constant time;
 * disabled (404 not_found) when the token is unset.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { ErrorCode } from "../../../protocol/error-codes.ts";
import { isValidRoomName } from "../../../protocol/paths.ts";
import { timingSafeEqualStrings } from "../../auth/hmac.ts";
import { MAX_SUB_LENGTH } from "../../auth/jwt.ts";
import { errorResponse } from "../../http-errors.ts";
import { log } from "../../log.ts";
import { roomStub } from "../../routing.ts";
import type { GatewayEnv } from "../context.ts";

export const admin = new Hono<GatewayEnv>();

const requireAdmin = createMiddleware<GatewayEnv>(async (c, next) => {
	const expected = c.get("config").adminToken;
	if (expected === null) return errorResponse(ErrorCode.NotFound, "not found");
	const match = /^Bearer[ ]+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "");
	if (match?.[1] === undefined || !(await timingSafeEqualStrings(match[1], expected))) {
		return errorResponse(ErrorCode.Unauthorized, "admin token required");
	}
	const room = c.req.param("room");
	if (room !== undefined && !isValidRoomName(room)) return errorResponse(ErrorCode.BadRoom, "bad room name");
	await next();
});

admin.use("/v1/admin/*", requireAdmin);

admin.post("/v1/admin/rooms/:room/drain", async (c) => {
	const room = c.req.param("room");
	const result = await roomStub(c.env, room, c.get("region")).drain(room);
	log.info("admin_drain", { room, closed: result.closed, requestId: c.get("requestId") });
	return c.json(result);
});

admin.get("/v1/admin/rooms/:room/stats", async (c) => {
	const room = c.req.param("room");
	return c.json(await roomStub(c.env, room, c.get("region")).stats(room));
});

admin.post("/v1/admin/rooms/:room/kick", async (c) => {
	const room = c.req.param("room");
	const body: unknown = await c.req.json().catch(() => null);
	const { sub, banSeconds } = (typeof body === "object" && body !== null ? body : {}) as { sub?: unknown; banSeconds?: unknown };
	if (typeof sub !== "string" || sub.length < 1 || sub.length > MAX_SUB_LENGTH)
		return errorResponse(ErrorCode.BadRequest, "sub must be a string of 1-128 chars");
	if (banSeconds !== undefined && (typeof banSeconds !== "number" || !Number.isFinite(banSeconds) || banSeconds < 0)) {
		return errorResponse(ErrorCode.BadRequest, "banSeconds must be a number ≥ 0");
	}
	const result = await roomStub(c.env, room, c.get("region")).kick(room, sub, banSeconds ?? null);
	log.info("admin_kick", { room, sub, closed: result.closed, requestId: c.get("requestId") });
	return c.json(result);
});
