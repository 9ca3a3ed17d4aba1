/**
 * Admin API (CONTRACT.md §3, §9): bearer `BATON_ADMIN_TOKEN`, checked by hono/bearer-auth
 * (constant-time comparison); disabled (404 not_found) when the token is unset.
 */
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { createMiddleware } from "hono/factory";
import { timingSafeEqual } from "hono/utils/buffer";
import { REGISTRY_SHARDS, registryStubForShard } from "../../../durable-objects/registry/registry.ts";
import { ErrorCode } from "../../../protocol/error-codes.ts";
import { isValidRoomName } from "../../../protocol/paths.ts";
import { isValidSub } from "../../core/auth/claims.ts";
import { errorResponse } from "../../core/http-errors.ts";
import { log } from "../../core/log.ts";
import { anchorStub, forgetRoute, resolveRoom } from "../../core/routing.ts";
import { gatewayBindings } from "../bindings.ts";
import { mapBounded } from "../bounded.ts";
import type { GatewayEnv } from "../context.ts";

export const admin = new Hono<GatewayEnv>();

const adminDisabled = createMiddleware<GatewayEnv>(async (c, next) => {
	if (c.get("config").adminToken === null) return errorResponse(ErrorCode.NotFound, "not found");
	await next();
});

/** Missing, malformed and wrong tokens all get the same 401 body of §3. */
const unauthorized = () => errorResponse(ErrorCode.Unauthorized, "admin token required");

const requireAdmin = bearerAuth<GatewayEnv>({
	verifyToken: async (token, c) => {
		const expected = c.get("config").adminToken;
		return expected !== null && (await timingSafeEqual(token, expected));
	},
	noAuthenticationHeader: { message: unauthorized },
	invalidAuthenticationHeader: { message: unauthorized },
	invalidToken: { message: unauthorized },
});

const requireRoomName = createMiddleware<GatewayEnv>(async (c, next) => {
	if (!isValidRoomName(c.req.param("room") ?? "")) return errorResponse(ErrorCode.BadRoom, "bad room name");
	await next();
});

admin.use("/v1/admin/*", adminDisabled, requireAdmin);
admin.use("/v1/admin/rooms/:room/*", requireRoomName);

async function readJsonObject(req: Request): Promise<Record<string, unknown> | null> {
	const body: unknown = await req.json().catch(() => null);
	return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
}

admin.post("/v1/admin/rooms/:room/drain", async (c) => {
	const room = c.req.param("room");
	const { stub } = await resolveRoom(gatewayBindings(c.env), room, c.get("region"));
	const result = await stub.drain(room);
	log.info("admin_drain", { room, closed: result.closed, requestId: c.get("requestId") });
	return c.json(result);
});

admin.get("/v1/admin/rooms/:room/stats", async (c) => {
	const room = c.req.param("room");
	const { stub } = await resolveRoom(gatewayBindings(c.env), room, c.get("region"));
	return c.json(await stub.stats(room));
});

admin.post("/v1/admin/rooms/:room/kick", async (c) => {
	const room = c.req.param("room");
	const body = await readJsonObject(c.req.raw);
	const sub = body?.sub;
	const banSeconds = body?.banSeconds;
	if (!isValidSub(sub)) return errorResponse(ErrorCode.BadRequest, "sub must be a string of 1-128 chars");
	if (banSeconds !== undefined && (typeof banSeconds !== "number" || !Number.isFinite(banSeconds) || banSeconds < 0)) {
		return errorResponse(ErrorCode.BadRequest, "banSeconds must be a number ≥ 0");
	}
	const { stub } = await resolveRoom(gatewayBindings(c.env), room, c.get("region"));
	const result = await stub.kick(room, sub, banSeconds ?? null);
	log.info("admin_kick", { room, closed: result.closed, requestId: c.get("requestId") });
	return c.json(result);
});

const MIGRATE_REFUSALS: Partial<Record<ErrorCode, string>> = {
	[ErrorCode.AlreadyThere]: "the room is already homed there",
	[ErrorCode.BadRegion]: "bad region",
	[ErrorCode.MigrationFailed]: "a migration step did not answer in time; the room stays where it was",
};

admin.post("/v1/admin/rooms/:room/migrate", async (c) => {
	const room = c.req.param("room");
	const body = await readJsonObject(c.req.raw);
	const to = body?.to;
	if (typeof to !== "string" || !c.get("config").regions.includes(to as never)) {
		return errorResponse(ErrorCode.BadRegion, `to must be one of ${c.get("config").regions.join(", ")}`);
	}
	const result = await anchorStub(gatewayBindings(c.env), room).migrate(room, to);
	forgetRoute(room);
	if (!result.ok) return errorResponse(result.code, MIGRATE_REFUSALS[result.code] ?? "the migration could not run");
	log.info("admin_migrate", { room, from: result.from, to: result.to, moved: result.moved, requestId: c.get("requestId") });
	return c.json({ from: result.from, to: result.to, seq: result.seq, moved: result.moved });
});

/**
 * Drains every room active within the resume window (before a deploy), DRAIN_ALL_CONCURRENCY
 * rooms at a time. Each room answers once it has sent its sockets their 1012 (it does not wait
 * for the close handshakes or the reconnects), and spreads its own clients' `retryIn` over the
 * drain window, so the reconnects of all rooms are spread too. A room that fails is counted in
 * `failed` (and logged); the others are drained regardless.
 */
admin.post("/v1/admin/drain-all", async (c) => {
	const config = c.get("config");
	const since = Date.now() - config.resumeWindowMs;
	const shards = await Promise.all(Array.from({ length: REGISTRY_SHARDS }, (_, i) => registryStubForShard(c.env, i).list(since)));
	const rooms = shards.flat();
	const drained = await mapBounded(rooms, config.drainAllConcurrency, async (room) => {
		const { stub } = await resolveRoom(gatewayBindings(c.env), room, c.get("region"));
		return (await stub.drain(room)).closed;
	});
	let closed = 0;
	let failed = 0;
	drained.forEach((result, i) => {
		if (result.ok) closed += result.value;
		else {
			failed += 1;
			log.warn("admin_drain_failed", { room: rooms[i], error: result.error instanceof Error ? result.error.message : String(result.error) });
		}
	});
	log.info("admin_drain_all", { rooms: rooms.length, closed, failed, requestId: c.get("requestId") });
	return c.json({ rooms: rooms.length, closed, failed });
});
