/**
 * When to refresh an access token in band (CONTRACT.md §11): at the latest 30 s before `exp`,
 * half-way through the remaining lifetime for tokens with less than a minute left, and never
 * sooner than 10 s after the previous token fetch.
 */

/** Refresh this long before `exp` at the latest. */
export const REFRESH_LEAD_MS = 30_000;
/** At most one token fetch per this interval. */
export const MIN_REFRESH_INTERVAL_MS = 10_000;

/**
 * Milliseconds from `now` until the next refresh of a token expiring at `expSeconds`, given the
 * last token fetch at `lastFetchAt` (all times `Date.now()`-style ms, `exp` in seconds); null when
 * the 10 s pace would put it at or past `exp` — too late to help: the room closes with 4001 and the
 * SDK reconnects with a fresh token (the fallback path) instead. Clock skew between the SDK and
 * the server shifts this by the skew.
 */
export function refreshDelay(expSeconds: number, now: number, lastFetchAt: number): number | null {
	const remaining = expSeconds * 1000 - now;
	const ideal = remaining > 2 * REFRESH_LEAD_MS ? remaining - REFRESH_LEAD_MS : remaining / 2;
	const earliest = lastFetchAt + MIN_REFRESH_INTERVAL_MS - now;
	const delay = Math.max(0, Math.floor(ideal), Math.ceil(earliest));
	return delay >= remaining ? null : delay;
}
