/**
 * A small seeded PRNG (mulberry32) and the draws the chaos run makes from it, so that a seed
 * replays the same fault schedule, client mix and publish timing. Each consumer gets its own
 * stream (`stream(seed, name)`), so adding draws to one does not shift every other.
 */

/** A uniform source in [0, 1). */
export type Random = () => number;

/** mulberry32: 32 bits of state, good enough for schedules (not for cryptography). */
export function mulberry32(seed: number): Random {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** An independent stream for `name` under `seed` (FNV-1a of the name mixed into the seed). */
export function stream(seed: number, name: string): Random {
	let h = 0x811c9dc5 ^ (seed >>> 0);
	for (let i = 0; i < name.length; i++) {
		h ^= name.charCodeAt(i);
		h = Math.imul(h, 0x01000193) >>> 0;
	}
	return mulberry32(h);
}

/** An integer in [min, max], both included. */
export function int(r: Random, min: number, max: number): number {
	return min + Math.floor(r() * (max - min + 1));
}

/** One element of a non-empty list. */
export function pick<T>(r: Random, items: readonly T[]): T {
	const item = items[Math.floor(r() * items.length)];
	if (item === undefined) throw new Error("pick from an empty list");
	return item;
}

/** True with probability `p`. */
export function chance(r: Random, p: number): boolean {
	return r() < p;
}

/** An exponentially distributed wait with mean `meanMs`, capped at 4 means (bounded tails). */
export function expWait(r: Random, meanMs: number): number {
	return Math.min(4 * meanMs, Math.round(-Math.log(1 - r()) * meanMs));
}

/** A key of `weights`, drawn in proportion to its weight (keys with weight 0 never). */
export function weighted<K extends string>(r: Random, weights: Readonly<Record<K, number>>): K {
	const entries = Object.entries(weights) as Array<[K, number]>;
	const total = entries.reduce((n, [, w]) => n + w, 0);
	let x = r() * total;
	for (const [k, w] of entries) {
		if (x < w) return k;
		x -= w;
	}
	const last = entries.findLast(([, w]) => w > 0);
	if (last === undefined) throw new Error("no positive weight");
	return last[0];
}
