/**
 * HTTP calls of the run (admin API and the room routes), through whichever gateway is up: a
 * gateway may be down (a fault) or die mid-request, so a call that fails on the network, or that
 * wrangler answers with its "restarted mid-request" page, is tried again through the next live
 * gateway — at most ATTEMPTS times, each with a deadline.
 */
import type { RegionCluster } from "../test/e2e/harness/cluster.ts";
import { TEST_ADMIN_TOKEN } from "../test/e2e/harness/server.ts";

const ATTEMPTS = 6;
const REQUEST_TIMEOUT_MS = 20_000;
const RETRY_PAUSE_MS = 250;

export interface HttpAnswer {
	status: number;
	body: unknown;
	/** The region whose gateway answered. */
	via: string;
}

/** A request through a live gateway; `token` defaults to the admin token. */
export async function call(
	cluster: RegionCluster,
	method: "GET" | "POST",
	path: string,
	opts: { body?: unknown; token?: string; via?: string; attempts?: number } = {},
): Promise<HttpAnswer> {
	let last = "no live gateway";
	const attempts = opts.attempts ?? ATTEMPTS;
	for (let attempt = 0; attempt < attempts; attempt++) {
		const live = cluster.liveRegions;
		const via = opts.via !== undefined && live.includes(opts.via as never) ? opts.via : live[attempt % Math.max(1, live.length)];
		if (via !== undefined) {
			try {
				const res = await fetch(`${cluster.gateway(via as never).url}${path}`, {
					method,
					headers: { Authorization: `Bearer ${opts.token ?? TEST_ADMIN_TOKEN}`, "Content-Type": "application/json" },
					...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
					signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
				});
				const text = await res.text();
				if (!isProxyHiccup(res.status, text)) return { status: res.status, body: parse(text), via };
				last = `${via}: ${res.status} ${text.slice(0, 200)}`;
			} catch (err) {
				last = `${via}: ${err instanceof Error ? err.message : String(err)}`;
			}
		}
		if (attempt + 1 < attempts) await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
	}
	throw new Error(`${method} ${path} failed ${attempts} times; last: ${last}`);
}

/** wrangler's dev proxy answers a request cut by a reload or a dying process with a plain-text page. */
function isProxyHiccup(status: number, text: string): boolean {
	return status >= 500 && !text.trimStart().startsWith("{");
}

function parse(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return text;
	}
}
