/**
 * The cursor of `GET /v1/rooms/:room/presence` (CONTRACT.md §12): opaque to clients, it is the
 * last sub of the page before, base64url of its UTF-8. The room makes it, the gateway checks it:
 * anything that does not decode to a possible sub (1–128 characters) is a bad request.
 */
import { decodeBase64Url, encodeBase64Url } from "./auth/base64url.ts";

const MAX_SUB_LENGTH = 128;

export function encodePresenceCursor(sub: string): string {
	return encodeBase64Url(new TextEncoder().encode(sub));
}

/** The sub a cursor stands for, or null when it is not a cursor this server made. */
export function decodePresenceCursor(cursor: string): string | null {
	const bytes = decodeBase64Url(cursor);
	if (bytes === null || bytes.length === 0) return null;
	let sub: string;
	try {
		sub = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
	} catch {
		return null;
	}
	return sub.length >= 1 && sub.length <= MAX_SUB_LENGTH ? sub : null;
}
