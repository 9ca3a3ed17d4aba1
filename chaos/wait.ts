/** Bounded waits of the run: every one has a deadline, and says whether its condition came true. */

const POLL_MS = 50;

export function delay(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/**
 * Checks `condition` every POLL_MS until it holds (true) or `timeoutMs` passed (false). For facts
 * spread over many clients and HTTP answers, where no single event says "done".
 */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (await condition()) return true;
		if (Date.now() >= deadline) return false;
		await delay(Math.min(POLL_MS, deadline - Date.now()));
	}
}
