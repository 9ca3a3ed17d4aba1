/** Small numeric summaries for the bench's samples. */

export interface Summary {
	n: number;
	p50: number;
	p90: number;
	p99: number;
	max: number;
	mean: number;
}

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
	if (sorted.length === 0) return Number.NaN;
	const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[rank] ?? Number.NaN;
}

export function summarize(values: ArrayLike<number>): Summary {
	const sorted = Float64Array.from(values).sort();
	const n = sorted.length;
	let sum = 0;
	for (const v of sorted) sum += v;
	return {
		n,
		p50: round(percentile(sorted, 50)),
		p90: round(percentile(sorted, 90)),
		p99: round(percentile(sorted, 99)),
		max: round(n === 0 ? Number.NaN : (sorted[n - 1] ?? Number.NaN)),
		mean: round(n === 0 ? Number.NaN : sum / n),
	};
}

/** Rounds to `digits` decimals (3 by default); keeps NaN. */
export function round(value: number, digits = 3): number {
	if (!Number.isFinite(value)) return value;
	const f = 10 ** digits;
	return Math.round(value * f) / f;
}

/** events / seconds, or NaN. */
export function perSecond(events: number, ms: number): number {
	return ms > 0 ? round((events * 1000) / ms, 1) : Number.NaN;
}

/** a / b rounded, or NaN when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): number {
	if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
	return round(a / b, 2);
}

/** The median of finite values (mean of the middle two), or NaN. */
export function median(values: readonly number[]): number {
	const v = values.filter(Number.isFinite).sort((a, b) => a - b);
	if (v.length === 0) return Number.NaN;
	const mid = Math.floor(v.length / 2);
	return round(v.length % 2 === 1 ? (v[mid] ?? Number.NaN) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2);
}
