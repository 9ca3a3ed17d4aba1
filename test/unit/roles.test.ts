/** What a token grants (CONTRACT.md §4, §11): `rooms` for joining, `publish` for publishing. */
import { describe, expect, it } from "vitest";
import { mayPublish, roomAllowed } from "../../src/core/auth/roles.ts";

describe("roomAllowed", () => {
	const claims = (rooms?: string[]) => (rooms === undefined ? {} : { rooms });

	it("grants exact names only", () => {
		expect(roomAllowed(claims(["lobby"]), "lobby")).toBe(true);
		expect(roomAllowed(claims(["lobby"]), "lobby2")).toBe(false);
		expect(roomAllowed(claims(["lobby"]), "Lobby")).toBe(false);
	});

	it("grants prefixes ending in *: team-* grants team-x but not teamx", () => {
		expect(roomAllowed(claims(["team-*"]), "team-x")).toBe(true);
		expect(roomAllowed(claims(["team-*"]), "team-")).toBe(true);
		expect(roomAllowed(claims(["team-*"]), "teamx")).toBe(false);
		expect(roomAllowed(claims(["team-*"]), "team")).toBe(false);
	});

	it("a lone * grants every room", () => {
		expect(roomAllowed(claims(["*"]), "anything")).toBe(true);
	});

	it("grants nothing without a rooms claim or with an empty one", () => {
		expect(roomAllowed(claims(), "lobby")).toBe(false);
		expect(roomAllowed(claims([]), "lobby")).toBe(false);
	});

	it("treats * only at the end as a wildcard", () => {
		expect(roomAllowed(claims(["*-x"]), "a-x")).toBe(false);
		expect(roomAllowed(claims(["*-x"]), "*-x")).toBe(true);
	});
});

describe("mayPublish", () => {
	it("without a publish claim, every room of rooms may be published to", () => {
		expect(mayPublish({ rooms: ["lobby", "team-*"] }, "lobby")).toBe(true);
		expect(mayPublish({ rooms: ["lobby", "team-*"] }, "team-a")).toBe(true);
	});

	it("with one, only the rooms it matches, with the same syntax as rooms", () => {
		const claims = { rooms: ["*"], publish: ["chat", "team-*"] };
		expect(mayPublish(claims, "chat")).toBe(true);
		expect(mayPublish(claims, "team-a")).toBe(true);
		expect(mayPublish(claims, "dashboard")).toBe(false);
		expect(mayPublish(claims, "chat2")).toBe(false);
	});

	it("an empty publish claim makes a read-only token", () => {
		expect(mayPublish({ rooms: ["lobby"], publish: [] }, "lobby")).toBe(false);
	});

	it("publish never widens rooms: a room the token cannot join cannot be published to", () => {
		expect(mayPublish({ rooms: ["lobby"], publish: ["*"] }, "other")).toBe(false);
		expect(mayPublish({ publish: ["lobby"] }, "lobby")).toBe(false);
	});
});
