import { describe, expect, it } from "vitest";
import { sha256 } from "../../src/core/sha256.ts";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const utf8 = (text: string) => new TextEncoder().encode(text);

describe("sha256", () => {
	it("matches the FIPS 180-4 examples", () => {
		expect(hex(sha256(utf8("")))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
		expect(hex(sha256(utf8("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
		expect(hex(sha256(utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))).toBe(
			"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		);
	});

	it("matches WebCrypto for every length across the padding boundaries (0–300 bytes)", async () => {
		for (let n = 0; n <= 300; n++) {
			const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n * 7) & 0xff);
			expect(hex(sha256(bytes)), `length ${n}`).toBe(hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))));
		}
	});
});
