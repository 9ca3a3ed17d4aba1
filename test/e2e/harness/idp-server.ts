/**
 * A loopback HTTP server the e2e tests run themselves: it plays the identity provider (serves a
 * JWK Set at /jwks.json, switchable, and counts every request to it) and the web app's origin
 * (serves a blank page at /app.html, for a browser to make cross-origin calls from). Bound to
 * 127.0.0.1 on a free port; `stop()` closes it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { jwkSet, type TestKey } from "../../fixtures/test-idp.ts";

export class IdpServer {
	/** Keys the JWK Set currently publishes. */
	keys: TestKey[] = [];
	/** Time (ms) of every request to /jwks.json, in order. */
	readonly jwksRequests: number[] = [];

	private constructor(
		private readonly server: Server,
		readonly port: number,
	) {}

	static async start(keys: TestKey[] = []): Promise<IdpServer> {
		let self: IdpServer | null = null;
		const server = createServer((req, res) => {
			if (self === null) return res.writeHead(503).end();
			if (req.url === "/jwks.json") {
				self.jwksRequests.push(Date.now());
				res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify(jwkSet(self.keys)));
				return;
			}
			if (req.url === "/app.html") {
				res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>app</title><p>app</p>");
				return;
			}
			res.writeHead(404).end();
		});
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		const port = (server.address() as AddressInfo).port;
		self = new IdpServer(server, port);
		self.keys = keys;
		return self;
	}

	get jwksUrl(): string {
		return `http://127.0.0.1:${this.port}/jwks.json`;
	}

	/** The app page on `host` (127.0.0.1 and localhost are two different origins). */
	appUrl(host: "127.0.0.1" | "localhost" = "127.0.0.1"): string {
		return `http://${host}:${this.port}/app.html`;
	}

	origin(host: "127.0.0.1" | "localhost" = "127.0.0.1"): string {
		return `http://${host}:${this.port}`;
	}

	/** Waits until `ms` have passed since the last JWK Set request (the rule under test is a time). */
	async sinceLastFetch(ms: number): Promise<void> {
		const last = this.jwksRequests.at(-1) ?? 0;
		while (Date.now() < last + ms) await new Promise((r) => setTimeout(r, last + ms - Date.now()));
	}

	stop(): Promise<void> {
		return new Promise((resolve) => this.server.close(() => resolve()));
	}
}
