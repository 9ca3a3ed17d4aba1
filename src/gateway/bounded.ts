/**
 * Runs an async job over many items with at most `limit` in flight, for admin fan-outs over every
 * room (drain-all): one slow or failing room neither serializes the rest nor fails the batch.
 */

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** `job` for each item, at most `limit` at a time; resolves once all settled, in item order. */
export async function mapBounded<I, T>(items: readonly I[], limit: number, job: (item: I) => Promise<T>): Promise<Array<Settled<T>>> {
	const results: Array<Settled<T>> = new Array(items.length);
	let next = 0;
	const worker = async (): Promise<void> => {
		for (let i = next++; i < items.length; i = next++) {
			const item = items[i] as I;
			try {
				results[i] = { ok: true, value: await job(item) };
			} catch (error) {
				results[i] = { ok: false, error };
			}
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
	return results;
}
