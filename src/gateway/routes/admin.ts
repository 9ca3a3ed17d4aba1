/**
 * Admin API (CONTRACT.md §3, §9): bearer `BATON_ADMIN_TOKEN`, compared in constant time;
 * disabled (404 not_found) when the token is unset.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { REGISTRY_SHARDS, registryStubForShard } from "../../../durable-objects/registry/registry.ts";
import { ErrorCode } from "../../../protocol/error-codes.ts";
import { isValidRoomName } from "../../../protocol/paths.ts";
import { timingSafeEqualStrings } from "../../auth/hmac.ts";
import { MAX_SUB_LENGTH } from "../../auth/jwt.ts";
import { errorResponse } from "../../http-errors.ts";
import { log } from "../../log.ts";
import { anchorStub, forgetRoute, resolveRoom } from "../../routing.ts";
import type { GatewayEnv } from "../context.ts";

export const admin = new Hono<GatewayEnv>();

const requireAdmin = createMiddleware<GatewayEnv>(async (c, next) => {
	const expected = c.get("config").adminToken;
	if (expected === null) return errorResponse(ErrorCode.NotFound, "not found");
	const match = /^Bearer[ ]+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "");
	if (match?.[1] === undefined || !(await timingSafeEqualStrings(match[1], expected))) {
		return errorResponse(ErrorCode.Unauthorized, "admin token required");
	}
	await next();
});

const requireRoomName = createMiddleware<GatewayEnv>(async (c, next) => {
	if (!isValidRoomName(c.req.param("room") ?? "")) return errorResponse(ErrorCode.BadRoom, "bad room name");
	await next();
});

admin.use("/v1/admin/*", requireAdmin);
admin.use("/v1/admin/rooms/:room/*", requireRoomName);

async function readJsonObject(req: Request): Promise<Record<string, unknown> | null> {
	const body: unknown = await req.json().catch(() => null);
	return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
}

admin.post("/v1/admin/rooms/:room/drain", async (c) => {
	const room = c.req.param("room");
	const { stub } = await resolveRoom(c.env, room, c.get("region"));
	const result = await stub.drain(room);
	log.info("admin_drain", { room, closed: result.closed, requestId: c.get("requestId") });
	return c.json(result);
});

admin.get("/v1/admin/rooms/:room/stats", async (c) => {
	const room = c.req.param("room");
	const { stub } = await resolveRoom(c.env, room, c.get("region"));
	return c.json(await stub.stats(room));
});

admin.post("/v1/admin/rooms/:room/kick", async (c) => {
	const room = c.req.param("room");
	const body = await readJsonObject(c.req.raw);
	const sub = body?.sub;
	const banSeconds = body?.banSeconds;
	if (typeof sub !== "string" || sub.length < 1 || sub.length > MAX_SUB_LENGTH)
		return errorResponse(ErrorCode.BadRequest, "sub must be a string of 1-128 chars");
	if (banSeconds !== undefined && (typeof banSeconds !== "number" || !Number.isFinite(banSeconds) || banSeconds < 0)) {
		return errorResponse(ErrorCode.BadRequest, "banSeconds must be a number ≥ 0");
	}
	const { stub } = await resolveRoom(c.env, room, c.get("region"));
	const result = await stub.kick(room, sub, banSeconds ?? null);
	log.info("admin_kick", { room, closed: result.closed, requestId: c.get("requestId") });
	return c.json(result);
});

admin.post("/v1/admin/rooms/:room/migrate", async (c) => {
	const room = c.req.param("room");
	const body = await readJsonObject(c.req.raw);
	const to = body?.to;
	if (typeof to !== "string" || !c.get("config").regions.includes(to as never)) {
		return errorResponse(ErrorCode.BadRegion, `to must be one of ${c.get("config").regions.join(", ")}`);
	}
	const result = await anchorStub(c.env, room).migrate(room, to);
	forgetRoute(room);
	if (!result.ok) return errorResponse(result.code, result.code === ErrorCode.AlreadyThere ? `the room is already homed in ${to}` : "bad region");
	log.info("admin_migrate", { room, from: result.from, to: result.to, moved: result.moved, requestId: c.get("requestId") });
	return c.json({ from: result.from, to: result.to, seq: result.seq, moved: result.moved });
});

/**
 * Drains every room active within the resume window (before a deploy). Each room spreads its own
 * clients' `retryIn` over the drain window, so the reconnects of all rooms are spread too.
 */
admin.post("/v1/admin/drain-all", async (c) => {
	const since = Date.now() - c.get("config").resumeWindowMs;
	const shards = await Promise.all(Array.from({ length: REGISTRY_SHARDS }, (_, i) => registryStubForShard(c.env, i).list(since)));
	const rooms = shards.flat();
	let closed = 0;
	for (const room of rooms) {
		const { stub } = await resolveRoom(c.env, room, c.get("region"));
		closed += (await stub.drain(room)).closed;
	}
	log.info("admin_drain_all", { rooms: rooms.length, closed, requestId: c.get("requestId") });
	return c.json({ rooms: rooms.length, closed });
});
