/**
 * The key that signs and checks this room's resume tokens (CONTRACT.md §2, §4). With
 * BATON_JWT_SECRET set it is that secret, as before; a deployment verifying only with JWK Sets
 * has no shared secret, so the room makes a random key once and keeps it in its `keys` table,
 * which a migration copies with the sessions (a token issued at the old home resumes at the new).
 */
import { encodeBase64Url } from "../../src/core/auth/base64url.ts";

const RESUME = "resume";

export function resumeKey(sql: SqlStorage, secret: string | null): string {
	if (secret !== null) return secret;
	const row = sql.exec<{ value: string }>("SELECT value FROM _baton_keys WHERE name = ?", RESUME).toArray()[0];
	if (row !== undefined) return row.value;
	const key = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
	sql.exec("INSERT INTO _baton_keys (name, value) VALUES (?, ?)", RESUME, key);
	return key;
}
