/**
 * The demo files the gateway serves itself (no `[assets]` router in front of the sockets): each
 * with its content type, an ETag and `no-cache`, a 304 on a matching `If-None-Match`, and the
 * page's references all resolvable.
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { DEMO_FILES } from "../../src/demo/files.gen.ts";
import { api, muteInfoLogs } from "./helpers.ts";

muteInfoLogs();

const EXPECTED_TYPES: Record<string, string> = {
	"/": "text/html; charset=utf-8",
	"/demo.css": "text/css; charset=utf-8",
	"/demo.js": "text/javascript; charset=utf-8",
	"/baton-client.js": "text/javascript; charset=utf-8",
};

describe("demo files", () => {
	it("serves exactly the page, its stylesheet and scripts, and the SDK bundle", () => {
		expect(Object.keys(DEMO_FILES).sort()).toEqual(Object.keys(EXPECTED_TYPES).sort());
	});

	for (const [path, type] of Object.entries(EXPECTED_TYPES)) {
		it(`GET ${path} → 200 ${type} with an ETag, revalidated on every load`, async () => {
			const res = await api(path);
			expect(res.status).toBe(200);
			expect(res.headers.get("content-type")).toBe(type);
			expect(res.headers.get("cache-control")).toBe("no-cache");
			expect(res.headers.get("x-content-type-options")).toBe("nosniff");
			const etag = res.headers.get("etag");
			expect(etag).toMatch(/^"[\w-]{22}"$/);
			expect(await res.text()).toBe(DEMO_FILES[path]?.body);

			const again = await api(path, { headers: { "If-None-Match": etag ?? "" } });
			expect(again.status).toBe(304);
			expect(again.headers.get("etag")).toBe(etag);
			expect(await again.text()).toBe("");

			const stale = await api(path, { headers: { "If-None-Match": '"stale"' } });
			expect(stale.status).toBe(200);
			await stale.arrayBuffer();
		});
	}

	it("the page references only files the gateway serves, and the SDK bundle exports connect and CloseCode", async () => {
		const html = await (await api("/")).text();
		const refs = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]);
		expect(refs.length).toBeGreaterThan(0);
		for (const ref of refs) expect(Object.keys(DEMO_FILES)).toContain(ref);
		const demoJs = await (await api("/demo.js")).text();
		expect(demoJs).toContain('from "/baton-client.js"');
		const sdk = await (await api("/baton-client.js")).text();
		expect(sdk).toMatch(/export\s*\{[^}]*\bCloseCode\b[^}]*\}/);
		expect(sdk).toMatch(/export\s*\{[^}]*\bconnect\b[^}]*\}/);
	});

	it("a path that is not a demo file is still the gateway's JSON 404", async () => {
		const res = await api("/demo.html");
		expect(res.status).toBe(404);
		expect(await res.json()).toMatchObject({ error: { code: ErrorCode.NotFound } });
	});
});
