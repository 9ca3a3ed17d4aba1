/** HMAC-SHA256 with WebCrypto; verification is constant-time inside `crypto.subtle.verify`. */
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
	let key = keyCache.get(secret);
	if (!key) {
		key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
		keyCache.set(secret, key);
	}
	return key;
}

export async function hmacSign(secret: string, data: string): Promise<Uint8Array<ArrayBuffer>> {
	const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(data));
	return new Uint8Array(sig);
}

export async function hmacVerify(secret: string, data: string, signature: Uint8Array<ArrayBuffer>): Promise<boolean> {
	return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, new TextEncoder().encode(data));
}

/** Constant-time string comparison (for the admin bearer token). */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
	// Compare HMACs of both under a random key: equal-length digests, compared without early exit.
	const key = crypto.getRandomValues(new Uint8Array(32));
	const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	const enc = new TextEncoder();
	const [x, y] = await Promise.all([crypto.subtle.sign("HMAC", k, enc.encode(a)), crypto.subtle.sign("HMAC", k, enc.encode(b))]);
	const xa = new Uint8Array(x);
	const ya = new Uint8Array(y);
	let diff = 0;
	for (let i = 0; i < xa.length; i++) diff |= (xa[i] ?? 0) ^ (ya[i] ?? 0);
	return diff === 0;
}
