/**
 * The chat demo (examples/chat, run as its users run it: `wrangler dev` inside examples/chat) in
 * Chromium. Two tabs chat; one goes offline for 5 s (room.suspend(): the socket really drops)
 * while the other posts 3 messages; it comes back showing `resumed, replayed 3` with those three
 * highlighted, and what it typed offline greyed until the room acknowledged it, then confirmed in
 * place. A reload shows the last messages again (history + persist); a new tab gets the last 50;
 * "Leave" is a goodbye the other tab sees at once (the room's side of it, CONTRACT §12, is issue 13's); at 390 px nothing scrolls sideways; without a
 * token endpoint the page says how to configure one. Screenshots go to test-results/.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserTestsEnabled, DemoPage, launchChromium } from "./harness/browser.ts";
import { mintToken, range, uniqueRoom } from "./harness/client.ts";
import { buildExample, EXAMPLE_BUILD_TIMEOUT_MS } from "./harness/examples.ts";
import { DevServer } from "./harness/server.ts";

const ARTIFACTS = join(resolve(import.meta.dirname, "../.."), "test-results");
/** Go offline lasts 5 s; then a dial and a welcome. */
const BACK_ONLINE_MS = 15_000;
/** Well under the room's presence grace (HEARTBEAT_INTERVAL_MS, 30 s): a goodbye is not a loss. */
const GOODBYE_MS = 5_000;
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

describe.runIf(browserTestsEnabled())("the chat demo (examples/chat) in Chromium", () => {
	let server: DevServer;
	let browser: Browser;
	const pages: DemoPage[] = [];

	beforeAll(async () => {
		const app = await buildExample("chat");
		// Publishes for the history check come fast from one sub over HTTP: rate limits out of the way.
		[server, browser] = await Promise.all([
			DevServer.start({ app, vars: { BATON_DEV_TOKENS: "true", RATE_LIMIT_PER_SEC: "500", RATE_LIMIT_BURST: "1000" } }),
			launchChromium(),
		]);
		mkdirSync(ARTIFACTS, { recursive: true });
	}, EXAMPLE_BUILD_TIMEOUT_MS);
	afterAll(async () => {
		await Promise.all(pages.map((p) => p.close().catch(() => {})));
		await browser?.close();
		await server?.stop();
	});

	async function openTab(name: string, room: string, context = {}): Promise<DemoPage> {
		const page = await DemoPage.join(browser, server.url, name, room, context);
		pages.push(page);
		return page;
	}

	it("offline 5 s while the other tab posts 3: back with `resumed, replayed 3`, the three highlighted, the offline message greyed then confirmed in place; a reload shows them again", async () => {
		const room = uniqueRoom("demo-offline");
		const alice = await openTab("alice", room);
		const bob = await openTab("bob", room);
		for (const p of [alice, bob]) {
			await p.waitFor(`document.getElementById("presence-count").textContent === "2"`, 15_000, "2 here");
			expect(await p.presence()).toEqual(["alice", "bob"]);
		}
		await alice.say("hello from alice");
		await bob.say("  hi alice  ");
		for (const p of [alice, bob]) await p.waitFor(`document.querySelectorAll("#messages li[data-seq]").length === 2`, 15_000, "2 messages");
		// The room's onPublish trimmed bob's text; alice's own line was confirmed, not duplicated.
		expect(await alice.texts()).toEqual(["hello from alice", "hi alice"]);
		expect(await alice.seqs()).toEqual([1, 2]);

		await alice.goOffline();
		expect(await alice.text("#resume-note")).toContain("offline for");
		// Bob still sees alice: the socket closed with 4000 (a loss), so the room keeps her present.
		expect(await bob.presence()).toEqual(["alice", "bob"]);
		for (const n of [1, 2, 3]) await bob.say(`while you were away ${n}`);
		await bob.waitFor(`document.querySelectorAll("#messages li[data-seq]").length === 5`, 5_000, "bob's 3 posts stored");
		await alice.say("typed while offline");
		expect(await alice.textsOf("pending")).toEqual(["typed while offline"]);
		// Marked, to prove the very same line is confirmed later (in place, not replaced).
		await alice.page.evaluate(`document.querySelector("#messages li.pending").__typedOffline = true`);
		const grey = await alice.page.evaluate(`getComputedStyle(document.querySelector("#messages li.pending")).color`);
		expect(grey).toBe("rgb(138, 143, 156)");
		expect(await alice.seqs()).toEqual([1, 2, Number.NaN]);
		expect(await alice.states()).toContain("reconnecting");
		await alice.page.screenshot({ path: join(ARTIFACTS, "demo-offline.png"), fullPage: true });

		await alice.waitFor(`document.getElementById("resume-note").textContent === "resumed, replayed 3"`, BACK_ONLINE_MS, "resumed, replayed 3");
		expect(await alice.textsOf("replayed")).toEqual(["while you were away 1", "while you were away 2", "while you were away 3"]);
		await alice.waitFor(`document.querySelectorAll("#messages li.pending").length === 0`, 15_000, "the offline message confirmed");
		expect(await alice.page.evaluate(`document.querySelector('#messages li[data-seq="6"]').__typedOffline === true`)).toBe(true);
		expect(await alice.seqs()).toEqual(range(1, 6));
		await bob.waitFor(`document.querySelectorAll("#messages li[data-seq]").length === 6`, 15_000, "bob sees the offline message");
		expect(await bob.texts()).toEqual(await alice.texts());
		const highlight = await alice.page.evaluate(`getComputedStyle(document.querySelector("#messages li.replayed")).backgroundColor`);
		expect(highlight).toBe("rgb(255, 244, 194)");
		expect(await alice.text("#resumes")).toBe("1");
		await alice.page.screenshot({ path: join(ARTIFACTS, "demo-resumed.png"), fullPage: true });

		// A reload: the page joins again by itself, the SDK resumes the saved session, history fills in.
		await alice.reload();
		await alice.waitFor(`document.querySelectorAll("#messages li[data-seq]").length === 6`, 15_000, "6 messages after the reload");
		expect(await alice.seqs()).toEqual(range(1, 6));
		expect(await alice.texts()).toEqual(await bob.texts());
		expect(await alice.text("#resume-note")).toBe("resumed, replayed 0");
		for (const p of [alice, bob]) expect(p.problems).toEqual([]);
	});

	it("a new tab shows the last 50 messages", async () => {
		const room = uniqueRoom("demo-history");
		const token = await mintToken("loader", [room]);
		for (const n of range(1, 60)) {
			const res = await fetch(`${server.url}/v1/rooms/${room}/messages`, {
				method: "POST",
				headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
				body: JSON.stringify({ data: { text: `message ${n}` } }),
			});
			expect(res.status).toBe(200);
		}
		const carol = await openTab("carol", room);
		await carol.waitFor(`document.querySelectorAll("#messages li[data-seq]").length === 50`, 15_000, "the last 50 messages");
		expect(await carol.seqs()).toEqual(range(11, 60));
		expect(await carol.texts()).toEqual(range(11, 60).map((n) => `message ${n}`));
		expect(carol.problems).toEqual([]);
	});

	it("Leave is a goodbye (close 1000): the other tab sees the user go at once, not after the presence grace", async () => {
		const room = uniqueRoom("demo-leave");
		const carol = await openTab("carol", room);
		const dave = await openTab("dave", room);
		await carol.waitFor(`document.getElementById("presence-count").textContent === "2"`, 15_000, "dave here");
		const left = Date.now();
		await dave.page.click("#leave");
		await carol.waitFor(`document.getElementById("presence-count").textContent === "1"`, GOODBYE_MS, "dave gone at once");
		expect(Date.now() - left).toBeLessThan(GOODBYE_MS);
		expect(await carol.presence()).toEqual(["carol"]);
		expect(await dave.text("#state")).toBe("closed");
		expect(await dave.page.isVisible("#join")).toBe(true);
		expect(await dave.text("#last-close")).toContain("1000");
	});

	it("at 390 px wide nothing scrolls sideways, long words included", async () => {
		const room = uniqueRoom("demo-phone");
		const phone = await openTab("a-rather-long-display-name-on-a-phone", room, PHONE);
		await phone.say(`${"x".repeat(200)} ${"https://example.com/a/very/long/path/".repeat(5)}`);
		await phone.waitFor(`document.querySelectorAll("#messages li[data-seq]").length === 1`, 15_000, "the long message stored");
		expect(await phone.scrollsSideways()).toBe(false);
		await phone.page.click("#offline");
		expect(await phone.scrollsSideways()).toBe(false);
		await phone.page.screenshot({ path: join(ARTIFACTS, "demo-390.png"), fullPage: true });
		await phone.page.click("#leave");
		expect(await phone.scrollsSideways()).toBe(false);
	});

	it("without a token endpoint (production: /dev/token is a 404) the page says how to point it at one", async () => {
		const page = await (await browser.newContext(PHONE)).newPage();
		try {
			await page.route(
				(url) => url.pathname === "/dev/token",
				(route) => route.fulfill({ status: 404, contentType: "application/json", body: '{"error":{"code":"not_found"}}' }),
			);
			await page.goto(`${server.url}/`);
			await page.click("#join button[type=submit]");
			await page.waitForSelector("#no-token-endpoint:not([hidden])", { timeout: 15_000 });
			const notice = (await page.locator("#no-token-endpoint").textContent()) ?? "";
			expect(notice).toContain('<meta name="baton-token-endpoint" content="/api/baton-token">');
			expect(notice).toContain("BATON_DEV_TOKENS=true");
			expect(await page.locator("#join-note").textContent()).toContain("404");
			expect(await page.isDisabled("#join button[type=submit]")).toBe(true);
			expect(await page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")).toBe(false);
			await page.screenshot({ path: join(ARTIFACTS, "demo-no-token-endpoint.png"), fullPage: true });
		} finally {
			await page.context().close();
		}
	});
});
