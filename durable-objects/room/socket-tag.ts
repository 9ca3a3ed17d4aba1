/**
 * Socket tags (`ctx.acceptWebSocket(ws, tags)`) that fit the runtime's limit whatever they name.
 * workerd refuses a tag over 256 bytes of UTF-8 (`MAX_TAG_LENGTH` in src/workerd/api/actor-state.h;
 * its message says "characters", its check counts bytes), and an upgrade whose tag it refuses
 * fails with HTTP 500. A `sub` may be 128 code points of any script (CONTRACT.md §13), up to
 * 512 bytes, so a tag too long to hold its value holds the value's SHA-256 instead.
 */
import { encodeBase64Url } from "../../src/core/auth/base64url.ts";
import { sha256 } from "../../src/core/sha256.ts";

/** The runtime's limit on one tag, in UTF-8 bytes. */
export const MAX_TAG_BYTES = 256;

const encoder = new TextEncoder();

/**
 * `prefix:value` when it fits in {@link MAX_TAG_BYTES}, else `prefix#<base64url SHA-256 of value>`.
 * The two forms never collide (`:` vs `#` after the prefix), and a hash collision is not a
 * practical concern, so one value always maps to one tag and two values never share one.
 */
export function socketTag(prefix: string, value: string): string {
	const plain = `${prefix}:${value}`;
	// Every UTF-16 unit is at most 3 UTF-8 bytes: most tags are decided without encoding.
	if (plain.length * 3 <= MAX_TAG_BYTES || encoder.encode(plain).length <= MAX_TAG_BYTES) return plain;
	return `${prefix}#${encodeBase64Url(sha256(encoder.encode(value)))}`;
}
