/**
 * The gateway: a stateless Hono app that authenticates every request and routes each room to
 * its Durable Object. Order of refusals follows CONTRACT.md §9.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { type BindingNames, configEnv, configureBindings } from "../core/bindings.ts";
import { readConfig } from "../core/config.ts";
import { errorResponse } from "../core/http-errors.ts";
import { log } from "../core/log.ts";
import type { GatewayEnv } from "./context.ts";
import { corsPolicy } from "./cors.ts";
import { originAllowed } from "./origin.ts";
import { gatewayRegion } from "./region.ts";
import { admin } from "./routes/admin.ts";
import { dev } from "./routes/dev.ts";
import { health } from "./routes/health.ts";
import { rooms } from "./routes/rooms.ts";

/** What `createGateway` takes: every field optional. */
export interface GatewayOptions extends BindingNames {
	/**
	 * Routes of the app's own served before baton's origin check and API (e.g. its pages: a page's
	 * own scripts carry its Origin). Requests they do not answer fall through to baton.
	 */
	pages?: Hono<GatewayEnv>;
}

/**
 * The gateway Worker: a Hono app that authenticates every request and routes each room to its
 * Durable Object. `room`, `anchor` and `registry` name the bindings when they are not `ROOMS`,
 * `ANCHORS` and `REGISTRY` (the rooms and anchors of the same Worker read the same names).
 */
export function createGateway(options: GatewayOptions = {}): Hono<GatewayEnv> {
	configureBindings(options);
	const app = new Hono<GatewayEnv>();

	app.use("*", async (c, next) => {
		const config = readConfig(configEnv(c.env));
		c.set("config", config);
		c.set("region", gatewayRegion(c.req.raw, config));
		c.set("requestId", c.req.header("cf-ray") ?? crypto.randomUUID());
		await next();
	});
	// CORS on every HTTP route, preflights answered here (§11).
	app.use("*", corsPolicy);

	// The app's pages: no origin check (a page's own scripts may carry its Origin).
	if (options.pages !== undefined) app.route("/", options.pages);

	app.use("*", async (c, next) => {
		// Room routes check the origin after the room name (§9 order); every other route here.
		if (!c.req.path.startsWith("/v1/rooms/") && !originAllowed(c.req.raw, c.get("config"))) {
			return errorResponse(ErrorCode.OriginNotAllowed, "origin not allowed");
		}
		await next();
	});

	app.route("/", health);
	app.route("/", rooms);
	app.route("/", admin);
	app.route("/", dev);

	app.notFound(() => errorResponse(ErrorCode.NotFound, "not found"));
	app.onError((err, c) => {
		// Middleware refusals (hono/bearer-auth) carry their own JSON answer.
		if (err instanceof HTTPException) return err.getResponse();
		log.error("internal_error", { path: c.req.path, requestId: c.get("requestId"), error: err instanceof Error ? err.message : String(err) });
		return errorResponse(ErrorCode.Internal, "internal error");
	});
	return app;
}
