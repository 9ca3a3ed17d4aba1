/**
 * The demo chat page and the browser build of the client SDK (`/`, `/demo.css`, `/demo.js`,
 * `/baton-client.js`), served from strings built into the Worker. Browsers revalidate with the
 * ETag on every load (`no-cache`), so a new deploy is picked up at once.
 */
import { Hono } from "hono";
import type { GatewayEnv } from "../gateway/context.ts";
import { DEMO_FILES } from "./files.gen.ts";

export const demo = new Hono<GatewayEnv>();

for (const [path, file] of Object.entries(DEMO_FILES)) {
	demo.get(path, (c) => {
		const headers = { etag: file.etag, "cache-control": "no-cache", "x-content-type-options": "nosniff" };
		if (c.req.header("if-none-match") === file.etag) return c.body(null, 304, headers);
		return c.body(file.body, 200, { ...headers, "content-type": file.contentType });
	});
}
