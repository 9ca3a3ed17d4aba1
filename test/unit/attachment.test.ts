/**
 * Versioned socket attachments (CONTRACT.md §7, STYLE.md 8): every older version is upgraded on
 * read, anything else — a newer version, a damaged value — reads as null (and the room closes
 * that socket with 1012, test/workers/versioned-state.test.ts).
 */
import { describe, expect, it } from "vitest";
import { ATTACHMENT_VERSION, newAttachment, parseAttachment } from "../../durable-objects/room/attachment.ts";
import { ATTACHMENT_V1 } from "../fixtures/attachment-v1.ts";

describe("socket attachments", () => {
	it("upgrade version 1 (before the publish claim) to the current version: every field kept, publishing allowed", () => {
		expect(ATTACHMENT_VERSION).toBe(2);
		expect(parseAttachment(structuredClone(ATTACHMENT_V1))).toEqual({ ...ATTACHMENT_V1, v: ATTACHMENT_VERSION, mayPublish: true });
	});

	it("read the current version as written", () => {
		const a = newAttachment({ session: "s", sub: "bob", name: "Bob", exp: 1, mayPublish: false, at: 5, tokens: 40 });
		expect(parseAttachment(structuredClone(a))).toEqual(a);
		expect(parseAttachment({ ...a, closedWith: 1000, refusedId: "x", refusedAt: 9 })).toMatchObject({ closedWith: 1000, refusedId: "x" });
	});

	it.each([
		["a newer version", { ...ATTACHMENT_V1, v: ATTACHMENT_VERSION + 1, mayPublish: true }],
		["no version", { ...ATTACHMENT_V1, v: undefined }],
		["version 0", { ...ATTACHMENT_V1, v: 0 }],
		["a field of the wrong type", { ...ATTACHMENT_V1, exp: "soon" }],
		["a missing field", { ...ATTACHMENT_V1, session: undefined }],
		["a current one without mayPublish", { ...ATTACHMENT_V1, v: ATTACHMENT_VERSION }],
		["null", null],
		["a string", "v1"],
		["an array", [1]],
	])("read %s as null", (_name, raw) => {
		expect(parseAttachment(raw)).toBeNull();
	});
});
