import { readTokenClaims } from "./jwt.ts";
import type { TokenSource } from "./types.ts";

/**
 * The connection's access token: a string used as is, or a function whose last answer is cached
 * until the server refuses it (4001, a refused refresh), it expires, or a refresh replaces it.
 * Records when the function was last called, which paces in-band refreshes (≥ 10 s apart).
 */
export class TokenCache {
	readonly #source: TokenSource;
	#token: string | null = null;
	/** When the token function was last called (`Date.now()`). */
	fetchedAt = Number.NEGATIVE_INFINITY;

	constructor(source: TokenSource) {
		this.#source = source;
	}

	/** True for a token function: fresh tokens can be asked for (after a 4001, ahead of `exp`). */
	get refreshable(): boolean {
		return typeof this.#source === "function";
	}

	/** The token to use now: the string, the cached answer, or a new one when none is cached or it expired. */
	async current(): Promise<string> {
		if (typeof this.#source === "string") return this.#source;
		// A cached token already past its `exp` would only earn a 4001: fetch a fresh one.
		if (this.#token !== null && !isExpired(this.#token)) return this.#token;
		const token = await this.fetch();
		this.#token = token;
		return token;
	}

	/**
	 * Calls the token function (the string, for a string source) without caching the answer:
	 * an in-band refresh caches it only once the room accepted it. Throws unless it is a
	 * non-empty string.
	 */
	async fetch(): Promise<string> {
		if (typeof this.#source === "string") return this.#source;
		this.fetchedAt = Date.now();
		const token: unknown = await this.#source();
		if (typeof token !== "string" || token.length === 0) throw new TypeError("token must be a non-empty string");
		return token;
	}

	/** Caches `token` (a refresh the room accepted). */
	adopt(token: string): void {
		if (this.refreshable) this.#token = token;
	}

	/** Forgets the cached token (or only `token`, if that is still the cached one), so the next use fetches anew. */
	invalidate(token?: string): void {
		if (token === undefined || this.#token === token) this.#token = null;
	}
}

function isExpired(token: string): boolean {
	const exp = readTokenClaims(token).exp;
	return exp !== undefined && exp * 1000 <= Date.now();
}
