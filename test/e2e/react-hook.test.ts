/**
 * `useRoom` (react/index.ts) in a real Chromium page against `wrangler dev`: the page
 * (test/e2e/pages/react-room.ts, bundled here with development React, served from an origin of
 * its own on loopback, as an app would be) renders under
 * <StrictMode>, whose mount–unmount–mount must leave exactly one socket — counted in the page
 * (every `new WebSocket`) and by the room (admin stats). A Node SDK client in the same room
 * chats with it; the page must render the messages and the presence.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connect, type MessageFrame, type Room } from "../../client/index.ts";
import { browserTestsEnabled, launchChromium } from "./harness/browser.ts";
import { mintToken, uniqueRoom } from "./harness/client.ts";
import { DevServer } from "./harness/server.ts";
import { type StaticSite, serveStatic } from "./harness/static-site.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const ARTIFACTS = join(ROOT, "test-results");
const PAGE_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>useRoom</title><link rel="icon" href="data:,"></head><body><div id="root"></div><script src="/page.js"></script></body></html>`;

async function bundlePage(): Promise<string> {
	const out = await build({
		entryPoints: [join(ROOT, "test/e2e/pages/react-room.ts")],
		bundle: true,
		write: false,
		format: "iife",
		platform: "browser",
		target: "es2022",
		// Development React: StrictMode double-invokes effects only there.
		define: { "process.env.NODE_ENV": '"development"' },
		logLevel: "warning",
	});
	const text = out.outputFiles[0]?.text;
	if (text === undefined) throw new Error("esbuild produced no page bundle");
	return text;
}

async function stats(server: DevServer, room: string): Promise<{ connections: number }> {
	const { status, body } = await server.admin("GET", `/v1/admin/rooms/${room}/stats`);
	if (status !== 200) throw new Error(`stats answered ${status}: ${JSON.stringify(body)}`);
	return body as { connections: number };
}

async function describePage(page: Page): Promise<string> {
	return JSON.stringify(
		await page.evaluate(`({
			state: document.getElementById("state")?.dataset.state,
			count: document.getElementById("count")?.textContent,
			presence: [...document.querySelectorAll("#presence li")].map((li) => li.dataset.sub),
			messages: [...document.querySelectorAll("#messages li")].map((li) => li.textContent),
			sockets: window.__sockets,
			mounts: window.__mounts,
		})`),
	);
}

async function waitInPage(page: Page, expression: string, what: string, problems: string[]): Promise<void> {
	try {
		await page.waitForFunction(expression, undefined, { timeout: 15_000, polling: 50 });
	} catch (error) {
		throw new Error(
			`${what} not reached (${error instanceof Error ? error.message.split("\n")[0] : error}); page ${await describePage(page)}; problems ${JSON.stringify(problems)}`,
		);
	}
}

describe.runIf(browserTestsEnabled())("useRoom in Chromium", () => {
	let server: DevServer;
	let browser: Browser;
	let site: StaticSite;

	beforeAll(async () => {
		let bundle: string;
		[server, browser, bundle] = await Promise.all([DevServer.start(), launchChromium(), bundlePage()]);
		site = await serveStatic({
			"/": { contentType: "text/html; charset=utf-8", body: PAGE_HTML },
			"/page.js": { contentType: "text/javascript; charset=utf-8", body: bundle },
		});
	});
	afterAll(async () => {
		await browser?.close();
		await site?.close();
		await server?.stop();
	});

	it("under StrictMode opens exactly one socket, and renders the room's messages and presence as they arrive", async () => {
		const room = uniqueRoom("react");
		const config = { url: server.url, room, token: await mintToken("alice", [room], { name: "Alice" }) };
		const context = await browser.newContext({ viewport: { width: 720, height: 560 } });
		const page = await context.newPage();
		const problems: string[] = [];
		page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
		page.on("console", (message) => {
			if (message.type() === "error") problems.push(`console: ${message.text()}`);
		});
		await page.addInitScript(`(() => {
			window.__BATON__ = ${JSON.stringify(config)};
			window.__sockets = 0;
			const Native = window.WebSocket;
			window.WebSocket = class extends Native {
				constructor(...args) { super(...args); window.__sockets++; }
			};
		})()`);
		const bobToken = await mintToken("bob", [room], { name: "Bob" });
		let bob: Room<{ text: string }> | null = null;
		try {
			await page.goto(`${site.url}/`);
			await waitInPage(page, `document.getElementById("state")?.dataset.state === "open"`, "state open", problems);
			// StrictMode did mount twice (the check can fail), and only one socket was ever created.
			expect(await page.evaluate("window.__mounts")).toBe(2);
			expect(await page.evaluate("window.__sockets")).toBe(1);
			expect(await stats(server, room)).toMatchObject({ connections: 1 });

			bob = connect<{ text: string }>({ url: server.url, room, token: bobToken, WebSocket });
			await bob.ready;
			await waitInPage(page, `document.getElementById("count")?.textContent === "2"`, "presence count 2", problems);
			await waitInPage(page, `document.querySelectorAll("#presence li").length === 2`, "both in the presence list", problems);
			expect(await page.evaluate(`[...document.querySelectorAll("#presence li")].map((li) => li.dataset.sub).sort()`)).toEqual(["alice", "bob"]);

			const { seq } = await bob.publish({ text: "hello from bob" });
			await waitInPage(page, `[...document.querySelectorAll("#messages li")].some((li) => li.dataset.seq === "${seq}")`, "bob's message", problems);
			expect(await page.locator(`#messages li[data-seq="${seq}"]`).textContent()).toBe("bob: hello from bob");

			const listener = bob;
			const fromAlice = new Promise<MessageFrame<{ text: string }>>((res) => {
				const off = listener.on("message", (m) => {
					if (m.from !== "alice") return;
					off();
					res(m);
				});
			});
			await page.fill("#text", "hi from alice");
			await page.click("#send button[type=submit]");
			expect((await fromAlice).data).toEqual({ text: "hi from alice" });
			await waitInPage(page, `document.querySelectorAll("#messages li").length === 2`, "both messages", problems);

			expect(await page.evaluate("window.__sockets")).toBe(1);
			expect(await stats(server, room)).toMatchObject({ connections: 2 });
			expect(problems).toEqual([]);
			mkdirSync(ARTIFACTS, { recursive: true });
			await page.screenshot({ path: join(ARTIFACTS, "react-room.png"), fullPage: true });
		} finally {
			bob?.close();
			await context.close();
		}
	});
});
