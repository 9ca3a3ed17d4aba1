/**
 * The key that checks resume tokens issued before they carried a per-session secret
 * (resume-secret.ts): `<payload>.<hmac>` tokens signed with BATON_JWT_SECRET or, in a deployment
 * verifying only with JWK Sets, with a random key the room kept in its `_baton_keys` table (which a
 * migration copies with the sessions). New tokens need no key, so none is made any more; this only
 * reads the one there is, so such tokens keep resuming their sessions.
 */
const RESUME = "resume";

export function legacyResumeKey(sql: SqlStorage, secret: string | null): string | null {
	if (secret !== null) return secret;
	const row = sql.exec<{ value: string }>("SELECT value FROM _baton_keys WHERE name = ?", RESUME).toArray()[0];
	return row?.value ?? null;
}
