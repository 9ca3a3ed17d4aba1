import type { Config } from "../core/config.ts";

/** Hono generics for every gateway route. */
export interface GatewayEnv {
	/** The Worker's env, of the app's type: baton reads its vars and bindings by name (core/bindings.ts). */
	Bindings: object;
	Variables: { config: Config; region: string; requestId: string };
}
