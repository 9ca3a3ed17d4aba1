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
