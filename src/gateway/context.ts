import type { Config } from "../config.ts";
import type { Env } from "../env.ts";

/** Hono generics for every gateway route. */
export interface GatewayEnv {
	Bindings: Env;
	Variables: { config: Config; region: string; requestId: string };
}
