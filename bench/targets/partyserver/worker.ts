/**
 * Bench target "partyserver": the idiomatic partyserver room. Hibernation on, every message
 * broadcast to every connection (sender included), nothing else: no auth, no storage, no log.
 */
import { type Connection, routePartykitRequest, Server, type WSMessage } from "partyserver";

/**
 * partyserver constrains its Env to the global `Cloudflare.Env`, which this repository's type
 * checking augments with baton's bindings; the intersection only satisfies that constraint.
 */
type Env = Cloudflare.Env & { BenchRoom: DurableObjectNamespace<BenchRoom> };

export class BenchRoom extends Server<Env> {
	static override options = { hibernate: true };

	override onMessage(_connection: Connection, message: WSMessage): void {
		this.broadcast(message);
	}
}

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		if (new URL(request.url).pathname === "/healthz") return new Response("ok");
		return (await routePartykitRequest(request, env)) ?? new Response("not found", { status: 404 });
	},
} satisfies ExportedHandler<Env>;
