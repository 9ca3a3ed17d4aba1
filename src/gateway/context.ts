import type { Config } from "../core/config.ts";

/** Hono generics for every gateway route. */
export interface GatewayEnv {
	Bindings: Env;
	Variables: { config: Config; region: string; requestId: string };
}
