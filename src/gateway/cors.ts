/**
 * CORS for every HTTP route (CONTRACT.md §11), with hono/cors, driven by BATON_ALLOWED_ORIGINS:
 * a preflight from an allowed origin is answered 204 with the allowed methods and headers; actual
 * responses name the origin (or `*` when any is allowed) and expose `X-Baton-Dup` and
 * `Retry-After` to scripts. A preflight from a disallowed origin gets 403 `origin_not_allowed`;
 * an actual request from one is refused by the route's own checks, in the order of §9.
 * WebSocket upgrades are left alone: CORS does not apply to them, and the 101 answer must pass
 * through untouched.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { Config } from "../core/config.ts";
import { errorResponse } from "../core/http-errors.ts";
import type { GatewayEnv } from "./context.ts";
import { originAllowed } from "./origin.ts";

/** How long a browser may cache a preflight answer. */
export const CORS_MAX_AGE_SECONDS = 600;

/** The header values of §11, spelled as there (hono joins list entries with a bare ","). */
export const CORS_HEADERS = {
	allowMethods: "GET, POST",
	allowHeaders: "Authorization, Content-Type",
	exposeHeaders: "X-Baton-Dup, Retry-After",
} as const;

const POLICY = {
	allowMethods: [CORS_HEADERS.allowMethods],
	allowHeaders: [CORS_HEADERS.allowHeaders],
	exposeHeaders: [CORS_HEADERS.exposeHeaders],
	maxAge: CORS_MAX_AGE_SECONDS,
};

/** One hono/cors middleware per parsed configuration (its allow-list). */
const byConfig = new WeakMap<Config, MiddlewareHandler>();

function corsFor(config: Config): MiddlewareHandler {
	let hit = byConfig.get(config);
	if (hit === undefined) {
		const allowed = config.allowedOrigins;
		hit = cors({ ...POLICY, origin: allowed === "*" ? "*" : [...allowed] });
		byConfig.set(config, hit);
	}
	return hit;
}

export const corsPolicy = createMiddleware<GatewayEnv>(async (c, next) => {
	if (c.req.header("Upgrade")?.toLowerCase() === "websocket") return next();
	const config = c.get("config");
	if (c.req.method === "OPTIONS" && !originAllowed(c.req.raw, config)) {
		return errorResponse(ErrorCode.OriginNotAllowed, "origin not allowed");
	}
	return corsFor(config)(c, next);
});
