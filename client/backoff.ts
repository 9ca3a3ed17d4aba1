/** How long to wait before reconnecting: exponential growth, capped, with full jitter. */
export interface BackoffOptions {
	/** Delay ceiling of the first retry, in ms. Default 250. */
	base?: number;
	/** Largest delay ever waited, in ms. Default 10 000. */
	cap?: number;
}

/** {@link BackoffOptions} with every field filled in. */
export interface Backoff {
	base: number;
	cap: number;
}

/** Defaults used when {@link BackoffOptions} leaves a field out. */
export const DEFAULT_BACKOFF: Backoff = { base: 250, cap: 10_000 };

/** Fills in defaults and clamps nonsense (negative, NaN) to them. */
export function resolveBackoff(options: BackoffOptions | undefined): Backoff {
	const base = validMs(options?.base) ?? DEFAULT_BACKOFF.base;
	const cap = validMs(options?.cap) ?? Math.max(base, DEFAULT_BACKOFF.cap);
	return { base, cap: Math.max(cap, base) };
}

function validMs(value: number | undefined): number | undefined {
	return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * "Full jitter" backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniform
 * draw in [0, min(cap, base·2^attempt)). Spreading the whole window, rather than adding a little
 * noise to a fixed delay, is what keeps thousands of clients dropped at once from reconnecting
 * in lockstep.
 *
 * @param attempt 0 for the first retry after a healthy connection.
 * @param random a uniform source in [0, 1); `Math.random` unless a test pins it.
 */
export function fullJitter(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
	// 2^31 already dwarfs any sane cap; clamping the exponent keeps the product finite.
	const ceiling = Math.min(backoff.cap, backoff.base * 2 ** Math.min(Math.max(attempt, 0), 31));
	return Math.floor(random() * ceiling);
}

/** A small random spread in [0, base) added to server-chosen delays so clients do not align. */
export function smallJitter(backoff: Backoff, random: () => number = Math.random): number {
	return Math.floor(random() * backoff.base);
}
