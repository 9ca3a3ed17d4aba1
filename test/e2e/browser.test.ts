/**
 * The demo page end to end in Chromium, served by the repo's own Worker: `/` (src/demo/routes.ts:
 * the chat example's page, examples/chat/public/) and the browser build of the SDK
 * (`/baton-client.js`, built here first), with the dev-only token and drain
 * routes on (BATON_DEV_TOKENS=true), as under `npm run dev`. Two tabs join one room under
 * different names, chat, see each other, and come through a drain (1012) and a SIGKILL + restart
 * of the server each showing the room's messages gapless, in order and once.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloseCode } from "../../protocol/close-codes.ts";
import { browserTestsEnabled, DemoPage, launchChromium } from "./harness/browser.ts";
import { range, uniqueRoom } from "./harness/client.ts";
import { reloadsOf } from "./harness/resuming-peer.ts";
import { DevServer } from "./harness/server.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const ARTIFACTS = join(ROOT, "test-results");
/** Chromium gives up on a lingering TCP close after ~2 s; the restart adds wrangler's boot and the SDK's backoff (cap 10 s). */
const RESUME_MS = 30_000;

describe.runIf(browserTestsEnabled())("the demo page in Chromium", () => {
	let server: DevServer;
	let browser: Browser;
	const pages: DemoPage[] = [];

	beforeAll(async () => {
		// The gateway serves the demo from a build output (gitignored): make sure it is current.
		await import(pathToFileURL(join(ROOT, "scripts/build-client.mjs")).href);
		[server, browser] = await Promise.all([DevServer.start({ vars: { BATON_DEV_TOKENS: "true" } }), launchChromium()]);
	});
	afterAll(async () => {
		await Promise.all(pages.map((p) => p.close().catch(() => {})));
		await browser?.close();
		await server?.stop();
	});

	it("two tabs chat and see each other, and after a drain and a server restart both resume and show every message once, in order", async () => {
		const room = uniqueRoom("demo");
		const alice = await DemoPage.join(browser, server.url, "alice", room);
		expect(await alice.states()).toEqual(["closed", "connecting", "open"]);
		pages.push(alice);
		const bob = await DemoPage.join(browser, server.url, "bob", room);
		pages.push(bob);
		const both = [alice, bob];
		// A wrangler reload (a watched source file edited mid-run) drops every socket: say so.
		const diagnostics = () => `wrangler reloads so far: ${reloadsOf(server)}`;

		for (const p of both) await p.waitFor(`document.querySelectorAll("#presence li").length === 2`, 15_000, "both names under Here now");
		for (const p of both) expect(await p.presence()).toEqual(["alice", "bob"]);
		expect(await alice.text("#presence")).toContain("bob");

		/** Each tab says something, then both tabs show `total` messages: exactly 1..total. */
		const chatRound = async (tag: string, total: number) => {
			await alice.say(`alice ${tag}`);
			await bob.say(`bob ${tag}`);
			for (const p of both) {
				await p.showsMessages(total);
				expect(await p.seqs(), `${await p.describe()}; ${diagnostics()}`).toEqual(range(1, total));
			}
		};
		await chatRound("hello", 2);
		expect(await bob.text("#messages")).toContain("alice hello");

		// Drain: the room closes every socket with 1012 and a retryIn; both tabs resume.
		const beforeDrain = await Promise.all(both.map((p) => p.markStates()));
		await alice.page.click("#drain");
		for (const [i, p] of both.entries()) await p.resumedOnceMore(beforeDrain[i] ?? 0, RESUME_MS, `resumed after the drain (${diagnostics()})`);
		expect(await alice.text("#last-close")).toContain(`${CloseCode.ServiceRestart} service restart`);
		expect(await alice.states(), await alice.describe()).toEqual(["open", "reconnecting", "open"]);
		await chatRound("after drain", 4);

		// SIGKILL + restart on the same port and storage: the tabs see 1006 and resume with backoff.
		const beforeRestart = await Promise.all(both.map((p) => p.markStates()));
		await server.restart();
		for (const [i, p] of both.entries()) await p.resumedOnceMore(beforeRestart[i] ?? 0, RESUME_MS, `resumed after the restart (${diagnostics()})`);
		expect(await bob.text("#last-close")).toContain(`${CloseCode.Abnormal} connection lost`);
		await chatRound("after restart", 6);
		for (const p of both) {
			expect(await p.text("#gaps")).toBe("0");
			expect(await p.text("#last-seq")).toBe("6");
			expect(p.problems).toEqual([]);
			await p.waitFor(`document.querySelectorAll("#presence li").length === 2`, 15_000, "both names after the restart");
		}
		expect(reloadsOf(server), "wrangler reloaded mid-test (a source file changed)").toBe(0);

		mkdirSync(ARTIFACTS, { recursive: true });
		await alice.page.screenshot({ path: join(ARTIFACTS, "demo.png"), fullPage: true });
	});
});
