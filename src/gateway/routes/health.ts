/** Unauthenticated routes: `/healthz` and `/v1/regions` (CONTRACT.md §3). */
import { Hono } from "hono";
import { ErrorCode } from "../../../protocol/error-codes.ts";
import { VERSION } from "../../core/version.ts";
import type { GatewayEnv } from "../context.ts";

export const health = new Hono<GatewayEnv>();

health.get("/healthz", (c) => {
	const region = c.get("region");
	if (c.get("config").misconfigured !== null) {
		return c.json({ ok: false, region, version: VERSION, error: ErrorCode.ServerMisconfigured }, 503);
	}
	return c.json({ ok: true, region, version: VERSION });
});

health.get("/v1/regions", (c) => c.json({ self: c.get("region"), regions: c.get("config").regions }));
