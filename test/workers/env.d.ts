/** Types `env` from "cloudflare:test" as the Worker's own bindings (vitest.config.ts sets the values). */
import type { Env as BatonEnv } from "../../src/env.ts";

declare global {
	namespace Cloudflare {
		interface Env extends BatonEnv {}
	}
}
