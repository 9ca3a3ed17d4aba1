/** `retryIn` of a refusal or a restart close: a base plus a random spread, so clients do not all return at once. */
export interface RetrySpread {
	baseMs: number;
	spreadMs: number;
}

export function retryInFrom(r: RetrySpread): number {
	return r.baseMs + Math.floor(Math.random() * r.spreadMs);
}
