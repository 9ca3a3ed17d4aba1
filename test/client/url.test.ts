import { describe, expect, it } from "vitest";
import { assertBaseUrl, socketUrl } from "../../client/url.ts";

describe("socketUrl", () => {
	it("turns http into ws and appends the room path with the token", () => {
		expect(socketUrl("http://127.0.0.1:8787", "lobby", { token: "jwt", resume: null, after: null })).toBe("ws://127.0.0.1:8787/v1/rooms/lobby/ws?token=jwt");
	});

	it("turns https into wss and keeps a base path", () => {
		expect(socketUrl("https://example.com/baton/", "a:b", { token: "t", resume: null, after: null })).toBe("wss://example.com/baton/v1/rooms/a%3Ab/ws?token=t");
	});

	it("adds resume and after when there are some, after=0 included", () => {
		const url = new URL(socketUrl("ws://h", "r", { token: "t", resume: "R+/=", after: 0 }));
		expect(url.searchParams.get("resume")).toBe("R+/=");
		expect(url.searchParams.get("after")).toBe("0");
	});

	it("drops a query string and fragment carried by the base URL", () => {
		expect(socketUrl("https://h/?x=1#f", "r", { token: "t", resume: null, after: 3 })).toBe("wss://h/v1/rooms/r/ws?token=t&after=3");
	});
});

describe("assertBaseUrl", () => {
	it("refuses relative URLs and other schemes", () => {
		expect(() => assertBaseUrl("/relative")).toThrow(TypeError);
		expect(() => assertBaseUrl("ftp://h")).toThrow(TypeError);
		expect(() => assertBaseUrl("wss://h")).not.toThrow();
	});
});
