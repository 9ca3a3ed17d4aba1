/**
 * examples/poll as its users run it: `wrangler dev` inside examples/poll. Its room's `onPublish`
 * accepts only a valid vote, one per sub and final (a second one, for any option, from any
 * connection or over HTTP, is refused with `already_voted`; anything else with `invalid_vote`),
 * keeping the votes in the room's own SQLite table; the app's own route posts results from the
 * server with `roomClient().publish`; and a migration of the room to another region keeps the
 * votes (the table moves with the room: CONTRACT §14). The page, in Chromium: two voters see the
 * tally move, a second vote is refused on the page, and posted results appear.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connect, type MessageFrame, type Room } from "../../client/index.ts";
import { browserTestsEnabled, launchChromium } from "./harness/browser.ts";
import { mintToken, uniqueRoom } from "./harness/client.ts";
import { buildExample, EXAMPLE_BUILD_TIMEOUT_MS } from "./harness/examples.ts";
import { ROOT } from "./harness/process.ts";
import { nextEvent } from "./harness/sdk.ts";
import { DevServer, TEST_ADMIN_TOKEN } from "./harness/server.ts";

interface Tally {
	counts: { tabs: number; spaces: number };
	total: number;
}
type PollMessage = { type: "vote"; option: string; tally: Tally } | { type: "results"; question: string; tally: Tally };

const tally = (tabs: number, spaces: number): Tally => ({ counts: { tabs, spaces }, total: tabs + spaces });

describe("examples/poll under wrangler dev", () => {
	let server: DevServer;
	const rooms: Room<unknown>[] = [];

	beforeAll(async () => {
		const app = await buildExample("poll");
		// Dev tokens for the page test at the end.
		server = await DevServer.start({ app, vars: { BATON_DEV_TOKENS: "true" } });
	}, EXAMPLE_BUILD_TIMEOUT_MS);
	afterAll(async () => {
		for (const room of rooms) room.close();
		await server?.stop();
	});

	async function voter(sub: string, room: string): Promise<Room<unknown>> {
		const sdk = connect<unknown>({ url: server.url, room, token: await mintToken(sub, [room]), WebSocket });
		rooms.push(sdk);
		await sdk.ready;
		return sdk;
	}

	async function httpVote(sub: string, room: string, data: unknown): Promise<{ status: number; body: unknown }> {
		const res = await fetch(`${server.url}/v1/rooms/${room}/messages`, {
			method: "POST",
			headers: { Authorization: `Bearer ${await mintToken(sub, [room])}`, "Content-Type": "application/json" },
			body: JSON.stringify({ data }),
		});
		return { status: res.status, body: await res.json() };
	}

	function postResults(room: string, token: string | null = TEST_ADMIN_TOKEN): Promise<Response> {
		return fetch(`${server.url}/api/polls/${room}/results`, { method: "POST", headers: token === null ? {} : { Authorization: `Bearer ${token}` } });
	}

	/** The stored poll messages of `room`, oldest first. */
	async function stored(room: Room<unknown>): Promise<MessageFrame<PollMessage>[]> {
		return (await room.history({ limit: 100 })).messages as MessageFrame<PollMessage>[];
	}

	it("GET /api/poll gives the question and the options", async () => {
		const res = await fetch(`${server.url}/api/poll`);
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ question: "Tabs or spaces?", options: ["tabs", "spaces"] });
	});

	it("counts one valid vote per sub, stores each with the tally after it, and refuses double and invalid votes with the poll's codes", async () => {
		const room = uniqueRoom("poll-votes");
		const ada = await voter("ada", room);
		const bob = await voter("bob", room);

		const seen = nextEvent(bob, "message");
		expect(await ada.publish({ vote: "tabs" })).toEqual({ seq: 1, dup: false });
		expect((await seen).data).toEqual({ type: "vote", option: "tabs", tally: tally(1, 0) });
		expect(await bob.publish({ vote: "spaces" })).toEqual({ seq: 2, dup: false });
		expect(await httpVote("cy", room, { vote: "tabs" })).toEqual({ status: 200, body: { seq: 3 } });

		// Votes are final: another option, the same option again, another connection of the same sub, HTTP.
		await expect(ada.publish({ vote: "spaces" })).rejects.toMatchObject({ name: "BatonError", code: "already_voted" });
		await expect(ada.publish({ vote: "tabs" })).rejects.toMatchObject({ code: "already_voted" });
		const adaAgain = await voter("ada", room);
		await expect(adaAgain.publish({ vote: "spaces" })).rejects.toMatchObject({ code: "already_voted" });
		expect(await httpVote("cy", room, { vote: "spaces" })).toEqual({
			status: 422,
			body: { error: { code: "already_voted", message: "you voted tabs already; votes are final" } },
		});
		// Not a vote.
		await expect(bob.publish({ vote: "emacs" })).rejects.toMatchObject({ code: "invalid_vote" });
		await expect(bob.publish("tabs")).rejects.toMatchObject({ code: "invalid_vote" });
		expect((await httpVote("dan", room, { vote: null })).body).toMatchObject({ error: { code: "invalid_vote" } });
		// The server posts only results; refusals are no protocol errors.
		expect(ada.state).toBe("open");

		const messages = await stored(ada);
		expect(messages.map((m) => [m.seq, m.from, m.data])).toEqual([
			[1, "ada", { type: "vote", option: "tabs", tally: tally(1, 0) }],
			[2, "bob", { type: "vote", option: "spaces", tally: tally(1, 1) }],
			[3, "cy", { type: "vote", option: "tabs", tally: tally(2, 1) }],
		]);
	});

	it("POST /api/polls/:room/results posts the tally from the server (roomClient().publish) for the owner only", async () => {
		const room = uniqueRoom("poll-results");
		const ada = await voter("ada", room);
		await ada.publish({ vote: "spaces" });
		expect(await httpVote("bob", room, { vote: "spaces" })).toMatchObject({ status: 200 });

		expect((await postResults(room, null)).status).toBe(401);
		expect((await postResults(room, "not-the-owner")).status).toBe(401);
		expect((await postResults("bad room!")).status).toBe(400);

		const posted = nextEvent(ada, "message", (m) => (m.data as PollMessage).type === "results");
		const res = await postResults(room);
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ seq: 3 });
		const results = await posted;
		expect(results).toMatchObject({ seq: 3, from: "poll" });
		expect(results.data).toEqual({ type: "results", question: "Tabs or spaces?", tally: tally(0, 2) });
	});

	it("migrates the poll room to weur with its votes: the same tally afterwards, double votes still refused, new votes counted on top", async () => {
		const room = uniqueRoom("poll-migrate");
		const ada = await voter("ada", room);
		await ada.publish({ vote: "tabs" });
		await (await voter("bob", room)).publish({ vote: "tabs" });
		await (await voter("cy", room)).publish({ vote: "spaces" });
		expect((await postResults(room)).status).toBe(200);

		const migrated = await server.admin("POST", `/v1/admin/rooms/${room}/migrate`, { to: "weur" });
		expect(migrated).toMatchObject({ status: 200, body: { from: "wnam", to: "weur", seq: 4 } });
		// The room's clients follow it (4010, resume at the new home).
		await ada.opened();

		const posted = nextEvent(ada, "message", (m) => m.seq === 5);
		expect(await (await postResults(room)).json()).toEqual({ seq: 5 });
		expect((await posted).data).toEqual({ type: "results", question: "Tabs or spaces?", tally: tally(2, 1) });
		await expect(ada.publish({ vote: "spaces" })).rejects.toMatchObject({ code: "already_voted" });
		expect(await httpVote("dan", room, { vote: "spaces" })).toEqual({ status: 200, body: { seq: 6 } });
		const messages = await stored(ada);
		expect(messages.at(-1)?.data).toEqual({ type: "vote", option: "spaces", tally: tally(2, 2) });
		expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
	});

	it.runIf(browserTestsEnabled())("the page: two voters see the tally move, a second vote is refused, posted results appear", async () => {
		const room = uniqueRoom("poll-page");
		const browser = await launchChromium();
		try {
			const open = async (name: string) => {
				const page = await (await browser.newContext({ viewport: { width: 390, height: 700 } })).newPage();
				page.setDefaultTimeout(15_000);
				await page.goto(`${server.url}/`);
				await page.waitForSelector("#option-tabs", { state: "attached" });
				await page.fill("#name", name);
				await page.fill("#room", room);
				await page.click("#join button[type=submit]");
				await page.waitForFunction(`document.getElementById("state").textContent === "open"`);
				return page;
			};
			const ada = await open("ada");
			const bob = await open("bob");
			expect(await ada.locator("#question").textContent()).toBe("Tabs or spaces?");
			await ada.click('button[data-option="tabs"]');
			await bob.click('button[data-option="spaces"]');
			for (const page of [ada, bob]) await page.waitForFunction(`document.getElementById("total").textContent === "2"`);
			expect(await bob.locator("#option-tabs .count").textContent()).toBe("1");
			expect(await ada.locator("#you").textContent()).toBe("You voted tabs. Votes are final.");
			await ada.click('button[data-option="spaces"]');
			await ada.waitForFunction(`document.getElementById("you").textContent.startsWith("Not counted: already_voted")`);
			expect((await postResults(room)).status).toBe(200);
			await bob.waitForFunction(`document.querySelectorAll("#results li").length === 1`);
			expect(await bob.locator("#results li").textContent()).toContain("tabs 1 · spaces 1 (2 votes)");
			expect(await ada.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")).toBe(false);
			mkdirSync(join(ROOT, "test-results"), { recursive: true });
			await ada.screenshot({ path: join(ROOT, "test-results/poll.png"), fullPage: true });
		} finally {
			await browser.close();
		}
	});
});
