/**
 * A JWK Set fetched from BATON_JWKS_URL (CONTRACT.md §11), kept per isolate:
 * - served for at most `maxAgeMs` (10 min) after its fetch, never longer;
 * - fetched again for a token naming an unknown `kid` only when the last fetch (successful or
 *   not) is `minRefetchMs` (one minute) old, so forged kids cannot make baton hammer the IdP;
 * - a failed fetch refuses the tokens that need the set (the caller answers 401 / 4001) and is
 *   retried at most every `failureRetryMs`;
 * - one fetch at a time is shared by the requests that need it, each waiting at most
 *   `timeoutMs` on its own timer: a hung IdP delays only the tokens that need the set, and a
 *   fetch whose request was cancelled cannot leave later requests waiting on it.
 * Lookups in the fetched set are jose's `createLocalJWKSet` (kid, kty/crv, `alg`, `use`).
 * jose's `createRemoteJWKSet` was not used: its cooldown counts from the last *successful*
 * fetch, it retries a failing URL on every token, and on Workers it shares no fetch.
 */
import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from "jose";
import { log } from "../log.ts";

export type KeyLookup = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

export interface RemoteJwksOptions {
	maxAgeMs: number;
	minRefetchMs: number;
	failureRetryMs: number;
	timeoutMs: number;
	/** Largest JWK Set body read, in bytes. */
	maxBytes: number;
	fetch: (url: string, init: RequestInit) => Promise<Response>;
	now: () => number;
}

export const REMOTE_JWKS_DEFAULTS: RemoteJwksOptions = {
	maxAgeMs: 10 * 60_000,
	minRefetchMs: 60_000,
	failureRetryMs: 5_000,
	timeoutMs: 3_000,
	maxBytes: 1 << 20,
	// Looked up at call time, so a test that replaces the global fetch is seen.
	fetch: (url, init) => fetch(url, init),
	now: () => Date.now(),
};

/** The set could not be fetched (or not recently enough): tokens that need it are refused. */
export class JwksUnavailable extends Error {
	override readonly name = "JwksUnavailable";
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

export class RemoteJwks {
	private set: { lookup: LocalSet; fetchedAt: number } | null = null;
	private lastAttemptAt = Number.NEGATIVE_INFINITY;
	private lastAttemptFailed = false;
	private inflight: { done: Promise<void>; startedAt: number } | null = null;
	/** Fetches started (for logs and tests). */
	fetches = 0;

	constructor(
		readonly url: string,
		private readonly opts: RemoteJwksOptions = REMOTE_JWKS_DEFAULTS,
	) {}

	/** The key for a token's header; throws jose's JWKSNoMatchingKey, or JwksUnavailable. */
	readonly getKey: KeyLookup = async (header, token) => {
		const now = this.opts.now();
		if (this.set !== null && now - this.set.fetchedAt >= this.opts.maxAgeMs) this.set = null;
		if (this.set === null) {
			if (this.inflight === null && this.lastAttemptFailed && now - this.lastAttemptAt < this.opts.failureRetryMs) {
				throw new JwksUnavailable("the JWK Set could not be fetched recently");
			}
			await this.refresh(now);
		}
		const before = this.set;
		if (before === null) throw new JwksUnavailable("the JWK Set could not be fetched");
		try {
			return await before.lookup(header, token);
		} catch (err) {
			if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
			// An unknown kid: fetch again only when the last fetch is old enough (or join one running).
			if (this.inflight === null && now - this.lastAttemptAt < this.opts.minRefetchMs) throw err;
			await this.refresh(now);
			const after = this.set;
			if (after === null || after === before) throw err;
			return after.lookup(header, token);
		}
	};

	/** Starts a fetch (or joins the one running) and waits for it at most `timeoutMs`. */
	private async refresh(now: number): Promise<void> {
		let current = this.inflight;
		if (current === null || now - current.startedAt >= this.opts.timeoutMs) {
			this.lastAttemptAt = now;
			this.fetches += 1;
			const done = this.load().then(
				(lookup) => {
					this.set = { lookup, fetchedAt: this.opts.now() };
					this.lastAttemptFailed = false;
				},
				(err: unknown) => {
					this.lastAttemptFailed = true;
					log.warn("jwks_fetch_failed", { host: new URL(this.url).host, error: err instanceof Error ? err.message : String(err) });
				},
			);
			current = { done, startedAt: now };
			this.inflight = current;
			const mine = current;
			void done.finally(() => {
				if (this.inflight === mine) this.inflight = null;
			});
		}
		let timer: ReturnType<typeof setTimeout> | null = null;
		const timeout = new Promise<void>((resolve) => {
			timer = setTimeout(resolve, this.opts.timeoutMs);
		});
		try {
			await Promise.race([current.done, timeout]);
		} finally {
			if (timer !== null) clearTimeout(timer);
		}
	}

	private async load(): Promise<LocalSet> {
		const response = await this.opts.fetch(this.url, {
			method: "GET",
			redirect: "manual",
			headers: { accept: "application/jwk-set+json, application/json" },
			signal: AbortSignal.timeout(this.opts.timeoutMs),
		});
		if (response.status !== 200) {
			await response.body?.cancel();
			throw new Error(`JWK Set answered ${response.status}`);
		}
		const text = await response.text();
		if (text.length > this.opts.maxBytes) throw new Error("JWK Set too large");
		return createLocalJWKSet(JSON.parse(text) as JSONWebKeySet);
	}
}

const registry = new Map<string, RemoteJwks>();

/** The isolate's cache for `url` (shared by the gateway and the rooms running in this isolate). */
export function remoteJwksFor(url: string, minRefetchMs: number): RemoteJwks {
	const key = `${minRefetchMs} ${url}`;
	let hit = registry.get(key);
	if (hit === undefined) {
		hit = new RemoteJwks(url, {
			...REMOTE_JWKS_DEFAULTS,
			minRefetchMs,
			failureRetryMs: Math.min(REMOTE_JWKS_DEFAULTS.failureRetryMs, minRefetchMs),
		});
		registry.set(key, hit);
	}
	return hit;
}
