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
 * last token fetch at `lastFetchAt` (all times `Date.now()`-style ms, `exp` in seconds). Clock
 * skew between the SDK and the server shifts this by the skew; the 4001 close remains the fallback.
 */
export function refreshDelay(expSeconds: number, now: number, lastFetchAt: number): number {
	const remaining = expSeconds * 1000 - now;
	const ideal = remaining > 2 * REFRESH_LEAD_MS ? remaining - REFRESH_LEAD_MS : remaining / 2;
	const earliest = lastFetchAt + MIN_REFRESH_INTERVAL_MS - now;
	return Math.max(0, Math.floor(ideal), Math.ceil(earliest));
}
