import { describe, expect, it } from "vitest";
import { MAX_TAG_BYTES, socketTag } from "../../durable-objects/room/socket-tag.ts";
import { MAX_SUB_LENGTH } from "../../src/core/auth/claims.ts";

const bytes = (text: string) => new TextEncoder().encode(text).length;

describe("finding 8: socket tags fit the runtime's 256-byte limit for any valid sub", () => {
	it("keeps a tag that fits as prefix:value", () => {
		expect(socketTag("s", "alice")).toBe("s:alice");
		const ascii = "a".repeat(MAX_SUB_LENGTH);
		expect(socketTag("s", ascii)).toBe(`s:${ascii}`);
		// 254 bytes of value + "s:" is exactly the limit.
		const edge = "é".repeat(127);
		expect(bytes(`s:${edge}`)).toBe(MAX_TAG_BYTES);
		expect(socketTag("s", edge)).toBe(`s:${edge}`);
	});

	it("hashes a value whose tag would be over the limit: 128 CJK characters, 128 astral ones, one byte over", () => {
		for (const sub of ["漢".repeat(MAX_SUB_LENGTH), "😀".repeat(MAX_SUB_LENGTH), `${"é".repeat(127)}a`]) {
			const tag = socketTag("s", sub);
			expect(bytes(`s:${sub}`)).toBeGreaterThan(MAX_TAG_BYTES);
			expect(tag).toMatch(/^s#[A-Za-z0-9_-]{43}$/);
			expect(bytes(tag)).toBeLessThanOrEqual(MAX_TAG_BYTES);
			expect(socketTag("s", sub)).toBe(tag);
		}
	});

	it("gives different values different tags, and a plain tag never equals a hashed one", () => {
		const long = (c: string) => c.repeat(MAX_SUB_LENGTH);
		const tags = new Set(["漢", "字", "😀", "😁"].map((c) => socketTag("s", long(c))));
		expect(tags.size).toBe(4);
		const hashed = socketTag("s", long("漢"));
		// A sub spelled like the hashed tag's tail still gets a plain tag.
		expect(socketTag("s", hashed.slice(2))).toBe(`s:${hashed.slice(2)}`);
		expect(socketTag("s", hashed.slice(2))).not.toBe(hashed);
	});
});
