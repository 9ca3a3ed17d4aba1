/**
 * Access token verification (CONTRACT.md §4, §11) with jose: HS256 with BATON_JWT_SECRET;
 * RS256, ES256 and EdDSA with a public key of BATON_JWKS (inline) or BATON_JWKS_URL (fetched).
 * The header's `alg` picks the key source before any key is touched, so a JWK-set key is never
 * used as an HMAC secret and the secret never checks an asymmetric signature; jose then refuses
 * a key whose type or curve does not fit the `alg`. `none` and every other `alg` are refused.
 */
import { compactVerify, createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from "jose";
import type { Config } from "../config.ts";
import { decodeBase64Url, decodeJsonBase64Url } from "./base64url.ts";
import { type AccessClaims, type ClaimRules, readClaims, timeWindowProblem } from "./claims.ts";
import { JwksUnavailable, type KeyLookup, remoteJwksFor } from "./remote-jwks.ts";

/**
 * `claims`: what baton reads of the token, normalized; `payload`: every claim the token carries,
 * verified (an app's `onConnect` sees them all, CONTRACT.md §14).
 */
export type VerifyResult = { ok: true; claims: AccessClaims; payload: Readonly<Record<string, unknown>> } | { ok: false; reason: string };

/** Verifies a token at a time (ms; defaults to now). */
export type Verifier = (token: string, nowMs?: number) => Promise<VerifyResult>;

/** Algorithms whose key comes from a JWK Set. */
const ASYMMETRIC_ALGS: ReadonlySet<string> = new Set(["RS256", "ES256", "EdDSA"]);

export interface VerifierSettings {
	secret: string | null;
	/** Inline keys, looked up first. */
	jwks: JSONWebKeySet | null;
	/** Fetched keys, looked up when the inline set has no match. */
	remote: KeyLookup | null;
	rules: ClaimRules;
}

function hmacKey(secret: string): Promise<CryptoKey> {
	return crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
}

function isRecord(v: unknown): v is Record<string, unknown> {
	return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Builds a verifier; keys are imported once and kept by it. */
export function createVerifier(settings: VerifierSettings): Verifier {
	let secretKey: Promise<CryptoKey> | null = null;
	const inline = settings.jwks === null ? null : createLocalJWKSet(settings.jwks);
	const remote = settings.remote;

	const asymmetricKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
		if (inline !== null) {
			try {
				return await inline(header, token);
			} catch (err) {
				if (!(err instanceof errors.JWKSNoMatchingKey) || remote === null) throw err;
			}
		}
		if (remote === null) throw new errors.JWKSNoMatchingKey();
		return remote(header, token);
	};

	return async (token, nowMs = Date.now()) => {
		const parts = token.split(".");
		if (parts.length !== 3) return { ok: false, reason: "malformed" };
		// Canonical base64url only: atob ignores a last character's unused bits, so without this
		// two different strings would carry one signature (an altered token would verify).
		if (parts.some((p) => decodeBase64Url(p) === null)) return { ok: false, reason: "malformed" };
		const header = decodeJsonBase64Url(parts[0] ?? "");
		if (!isRecord(header) || typeof header.alg !== "string") return { ok: false, reason: "no alg" };
		if (header.crit !== undefined) return { ok: false, reason: "crit headers are not supported" };
		const alg = header.alg;
		let key: CryptoKey | ((h: JWSHeaderParameters, t: FlattenedJWSInput) => Promise<CryptoKey>);
		if (alg === "HS256") {
			if (settings.secret === null) return { ok: false, reason: "HS256 needs BATON_JWT_SECRET" };
			secretKey ??= hmacKey(settings.secret);
			key = await secretKey;
		} else if (ASYMMETRIC_ALGS.has(alg) && (inline !== null || remote !== null)) {
			key = asymmetricKey;
		} else {
			return { ok: false, reason: `alg ${alg} is not accepted` };
		}
		let payloadBytes: Uint8Array;
		try {
			payloadBytes = (await compactVerify(token, key, { algorithms: [alg] })).payload;
		} catch (err) {
			if (err instanceof JwksUnavailable) return { ok: false, reason: "jwks unavailable" };
			return { ok: false, reason: err instanceof errors.JOSEError ? err.code : "bad signature" };
		}
		let payload: unknown;
		try {
			payload = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(payloadBytes));
		} catch {
			return { ok: false, reason: "payload is not JSON" };
		}
		const claims = readClaims(payload, settings.rules);
		if (typeof claims === "string") return { ok: false, reason: claims };
		const late = timeWindowProblem(claims, nowMs);
		if (late !== null) return { ok: false, reason: late };
		// readClaims accepted it, so it is a JSON object.
		return { ok: true, claims, payload: payload as Record<string, unknown> };
	};
}

const verifiers = new WeakMap<Config, Verifier>();

/** The verifier of a parsed configuration (one per config object, so its key caches persist). */
export function verifierFor(config: Config): Verifier {
	let hit = verifiers.get(config);
	if (hit === undefined) {
		hit = createVerifier({
			secret: config.jwtSecret,
			jwks: config.jwks as JSONWebKeySet | null,
			remote: config.jwksUrl === null ? null : remoteJwksFor(config.jwksUrl, config.jwksMinRefetchMs).getKey,
			rules: { issuer: config.jwtIssuer, audience: config.jwtAudience },
		});
		verifiers.set(config, hit);
	}
	return hit;
}
