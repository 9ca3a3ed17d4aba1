/**
 * Versioned socket attachments (CONTRACT.md §7, STYLE.md 8): every older version is upgraded on
 * read, anything else — a newer version, a damaged value — reads as null (and the room closes
 * that socket with 1012, test/workers/versioned-state.test.ts).
 */
import { describe, expect, it } from "vitest";
import { ATTACHMENT_VERSION, newAttachment, parseAttachment } from "../../durable-objects/room/attachment.ts";
import { ATTACHMENT_V1 } from "../fixtures/attachment-v1.ts";

describe("socket attachments", () => {
	it("upgrade version 1 (before the publish claim) to the current version: publishing allowed, the per-connection bucket dropped, every other field kept", () => {
		expect(ATTACHMENT_VERSION).toBe(3);
		const { tokens: _tokens, tokensAt: _tokensAt, ...kept } = ATTACHMENT_V1;
		expect(parseAttachment(structuredClone(ATTACHMENT_V1))).toEqual({ ...kept, v: ATTACHMENT_VERSION, mayPublish: true });
	});

	it("upgrade version 2 (a token bucket per connection) to version 3 (the bucket is the sub's; no acknowledged seq until a read)", () => {
		const v2 = { ...ATTACHMENT_V1, v: 2, mayPublish: false };
		const upgraded = parseAttachment(structuredClone(v2));
		expect(upgraded).toMatchObject({ v: 3, mayPublish: false, session: ATTACHMENT_V1.session, strikes: [...ATTACHMENT_V1.strikes] });
		expect(upgraded).not.toHaveProperty("tokens");
		expect(upgraded).not.toHaveProperty("ackSeq");
	});

	it("read the current version as written", () => {
		const a = newAttachment({ session: "s", sub: "bob", name: "Bob", exp: 1, mayPublish: false, at: 5, ack: { seq: 7, cum: 900 } });
		expect(parseAttachment(structuredClone(a))).toEqual(a);
		expect(parseAttachment({ ...a, closedWith: 1000, refusedId: "x", refusedAt: 9 })).toMatchObject({ closedWith: 1000, refusedId: "x" });
		expect(parseAttachment({ ...a, auths: [1, 2], reads: [3] })).toMatchObject({ auths: [1, 2], reads: [3], ackSeq: 7, ackCum: 900 });
	});

	it.each([
		["a newer version", { ...ATTACHMENT_V1, v: ATTACHMENT_VERSION + 1, mayPublish: true }],
		["no version", { ...ATTACHMENT_V1, v: undefined }],
		["version 0", { ...ATTACHMENT_V1, v: 0 }],
		["a field of the wrong type", { ...ATTACHMENT_V1, exp: "soon" }],
		["frame times that are not numbers", { ...ATTACHMENT_V1, reads: ["a"] }],
		["an acknowledged seq that is not a number", { ...ATTACHMENT_V1, ackSeq: "7" }],
		["a missing field", { ...ATTACHMENT_V1, session: undefined }],
		["a current one without mayPublish", { ...ATTACHMENT_V1, v: ATTACHMENT_VERSION }],
		["null", null],
		["a string", "v1"],
		["an array", [1]],
	])("read %s as null", (_name, raw) => {
		expect(parseAttachment(raw)).toBeNull();
	});
});
