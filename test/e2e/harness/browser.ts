/**
 * Drives the demo page (examples/chat/public/: index.html + demo.js, served by the repo's Worker
 * and by the chat example) in the system Chromium through
 * `playwright-core` — never a downloaded browser. Page-side code is passed as strings: the
 * project's TypeScript config has no DOM types.
 */
import { existsSync } from "node:fs";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";

/** The variable that points the browser tests at a Chromium binary (default: Debian's). */
export const CHROMIUM_PATH_VAR = "BATON_CHROMIUM";
export const CHROMIUM_PATH = process.env[CHROMIUM_PATH_VAR] || "/usr/bin/chromium";

/**
 * Whether the browser tests run here. Off Debian (no Chromium at CHROMIUM_PATH) they are skipped
 * with a message naming the variable; under CI=true a missing browser is a failure instead
 * (the launch fails), because CI installs Debian's Chromium first (.ci/run).
 */
export function browserTestsEnabled(): boolean {
	if (existsSync(CHROMIUM_PATH) || process.env.CI === "true") return true;
	console.warn(`browser tests skipped: no Chromium at ${CHROMIUM_PATH}; set ${CHROMIUM_PATH_VAR}=/path/to/chromium (or apt-get install chromium) to run them`);
	return false;
}
const CHROMIUM_ARGS = [
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
];

export function launchChromium(): Promise<Browser> {
	return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * Console errors the browser itself logs that are not the page's fault: the request for a favicon
 * the demo does not have, and refused WebSocket dials while a test has the server down.
 */
const EXPECTED_CONSOLE_ERRORS = [/\/favicon\.ico$/, /^WebSocket connection to .* failed/];

/** One tab on the demo page, joined to a room under a display name. */
export class DemoPage {
	/** Console errors and uncaught page errors, for diagnostics. */
	readonly problems: string[] = [];

	private constructor(
		readonly page: Page,
		readonly name: string,
	) {
		page.on("pageerror", (err) => this.problems.push(`pageerror: ${err.message}`));
		page.on("console", (msg) => {
			if (msg.type() !== "error" || EXPECTED_CONSOLE_ERRORS.some((re) => re.test(msg.text()) || re.test(msg.location().url))) return;
			this.problems.push(`console: ${msg.text()} (${msg.location().url})`);
		});
	}

	/**
	 * Opens `/` in a fresh browser context, joins `room` as `name`, and starts recording every
	 * value `#state` takes (a MutationObserver: transient states are not missed by polling).
	 */
	static async join(browser: Browser, baseUrl: string, name: string, room: string, context: BrowserContextOptions = {}): Promise<DemoPage> {
		const page = await (await browser.newContext(context)).newPage();
		page.setDefaultTimeout(15_000);
		const demo = new DemoPage(page, name);
		await page.goto(`${baseUrl}/`);
		await demo.recordStates();
		await page.fill("#name", name);
		await page.fill("#room", room);
		await page.click("#join button[type=submit]");
		await demo.waitFor(`document.getElementById("state").dataset.state === "open"`, 15_000, "state open after joining");
		return demo;
	}

	private recordStates(): Promise<void> {
		return this.page.evaluate(`(() => {
			const el = document.getElementById("state");
			window.__states = [el.dataset.state];
			new MutationObserver(() => {
				const s = el.dataset.state;
				if (window.__states[window.__states.length - 1] !== s) window.__states.push(s);
			}).observe(el, { attributes: true, attributeFilter: ["data-state"] });
		})()`);
	}

	/** Reloads the page: it joins the same room again by itself and the SDK resumes the saved session. */
	async reload(): Promise<void> {
		await this.page.reload();
		await this.recordStates();
		await this.waitFor(`document.getElementById("state").dataset.state === "open"`, 15_000, "state open after the reload");
	}

	/** Clicks "Go offline 5 s" and waits until the socket is down. */
	async goOffline(): Promise<void> {
		await this.page.click("#offline");
		await this.waitFor(`document.getElementById("state").dataset.state === "reconnecting"`, 5_000, "offline (reconnecting) after Go offline");
	}

	/** Texts of the message lines with `className` ("pending", "replayed", "failed"), in display order. */
	textsOf(className: string): Promise<string[]> {
		return this.page.evaluate(`[...document.querySelectorAll("#messages li.${className} .text")].map((el) => el.textContent)`) as Promise<string[]>;
	}

	/** Every message line's text, in display order. */
	texts(): Promise<string[]> {
		return this.page.evaluate(`[...document.querySelectorAll("#messages li .text")].map((el) => el.textContent)`) as Promise<string[]>;
	}

	/** True when the page scrolls sideways (wider than the viewport). */
	scrollsSideways(): Promise<boolean> {
		return this.page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth") as Promise<boolean>;
	}

	/** Waits until the page-side expression is truthy, or fails with the page's status and log. */
	async waitFor(expression: string, timeoutMs: number, what: string): Promise<void> {
		try {
			await this.page.waitForFunction(expression, undefined, { timeout: timeoutMs, polling: 50 });
		} catch (err) {
			throw new Error(
				`${this.name}: ${what} not reached within ${timeoutMs} ms (${err instanceof Error ? err.message.split("\n")[0] : err}); ${await this.describe()}`,
			);
		}
	}

	/** Types into #text and submits #send. */
	async say(text: string): Promise<void> {
		await this.page.fill("#text", text);
		await this.page.click("#send button[type=submit]");
	}

	/** The seqs shown in #messages, in display order. */
	seqs(): Promise<number[]> {
		return this.page.evaluate(`[...document.querySelectorAll("#messages li")].map((li) => Number(li.dataset.seq))`) as Promise<number[]>;
	}

	/** Waits until #messages shows at least `count` stored messages and none of this tab's is pending. */
	showsMessages(count: number, timeoutMs = 15_000): Promise<void> {
		return this.waitFor(
			`document.querySelectorAll("#messages li[data-seq]").length >= ${count} && document.querySelectorAll("#messages li.pending").length === 0`,
			timeoutMs,
			`${count} messages shown, none pending`,
		);
	}

	/** The subs listed under "Here now". */
	presence(): Promise<string[]> {
		return this.page.evaluate(`[...document.querySelectorAll("#presence li")].map((li) => li.dataset.sub).sort()`) as Promise<string[]>;
	}

	/** Every value #state took since joining (or the last {@link markStates}), consecutive repeats collapsed. */
	states(): Promise<string[]> {
		return this.page.evaluate("window.__states") as Promise<string[]>;
	}

	/** Restarts the #state record from the current state, and returns the current #resumes. */
	async markStates(): Promise<number> {
		await this.page.evaluate(`window.__states = [document.getElementById("state").dataset.state]`);
		return Number(await this.text("#resumes"));
	}

	/**
	 * Waits until the tab has resumed once more than `resumesBefore`, is open again, and passed
	 * through `reconnecting` since {@link markStates}.
	 */
	resumedOnceMore(resumesBefore: number, timeoutMs: number, what: string): Promise<void> {
		return this.waitFor(
			`document.getElementById("resumes").textContent === "${resumesBefore + 1}" && document.getElementById("state").dataset.state === "open" && window.__states.includes("reconnecting")`,
			timeoutMs,
			what,
		);
	}

	async text(selector: string): Promise<string> {
		return (await this.page.locator(selector).textContent()) ?? "";
	}

	async describe(): Promise<string> {
		try {
			const status = await this.page.evaluate(`({
				state: document.getElementById("state").textContent,
				lastSeq: document.getElementById("last-seq").textContent,
				lastClose: document.getElementById("last-close").textContent,
				resumes: document.getElementById("resumes").textContent,
				seqs: [...document.querySelectorAll("#messages li")].map((li) => li.dataset.seq).join(","),
				states: window.__states,
				log: [...document.querySelectorAll("#log li")].slice(0, 12).map((li) => li.textContent),
			})`);
			return `page ${JSON.stringify(status)}; problems ${JSON.stringify(this.problems)}`;
		} catch (err) {
			return `page unreadable: ${err instanceof Error ? err.message : err}`;
		}
	}

	async close(): Promise<void> {
		await this.page.context().close();
	}
}
