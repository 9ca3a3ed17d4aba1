/**
 * A static site on a loopback port of its own, for browser tests whose page must not be the
 * gateway's: it is a real origin in the local address space, so Chromium's Local Network Access
 * checks let it reach the gateway on 127.0.0.1 (a page injected with `page.route` counts as
 * public and is refused), and it is cross-origin to the gateway, as a real app is.
 */
import { createServer } from "node:http";

export interface StaticFile {
	contentType: string;
	body: string;
}

export interface StaticSite {
	readonly url: string;
	close(): Promise<void>;
}

/** Serves `files` (path → file) on 127.0.0.1, port 0; anything else is a 404. */
export function serveStatic(files: Readonly<Record<string, StaticFile>>): Promise<StaticSite> {
	const server = createServer((req, res) => {
		const file = files[new URL(req.url ?? "/", "http://localhost").pathname];
		if (file === undefined) {
			res.writeHead(404).end();
			return;
		}
		res.writeHead(200, { "Content-Type": file.contentType, "Cache-Control": "no-store" }).end(file.body);
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			const port = typeof address === "object" && address !== null ? address.port : 0;
			resolve({
				url: `http://127.0.0.1:${port}`,
				close: () =>
					new Promise<void>((done) => {
						server.closeAllConnections();
						server.close(() => done());
					}),
			});
		});
	});
}
