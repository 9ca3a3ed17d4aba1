/** base64url without padding (RFC 4648 §5), for JWTs and resume tokens. */
export function encodeBase64Url(bytes: Uint8Array): string {
	let bin = "";
	for (const b of bytes) bin += String.fromCharCode(b);
	return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Decodes base64url; returns null for anything that is not strictly base64url. */
export function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
	if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
	const b64 = text.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (text.length % 4)) % 4);
	try {
		const bin = atob(b64);
		const out = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
		// Canonical form only: atob ignores the unused low bits of the last character, so without
		// this two different strings decode to one signature (an altered token would verify).
		return encodeBase64Url(out) === text ? out : null;
	} catch {
		return null;
	}
}

export function encodeJsonBase64Url(value: unknown): string {
	return encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)));
}

/** Decodes base64url JSON; null when either layer is malformed. */
export function decodeJsonBase64Url(text: string): unknown {
	const bytes = decodeBase64Url(text);
	if (bytes === null) return null;
	try {
		return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
	} catch {
		return null;
	}
}
