import { describe, expect, it } from "vitest";
import { assertBaseUrl, socketProtocols, socketUrl } from "../../client/url.ts";

describe("socketUrl", () => {
	it("turns http into ws and appends the room path, with no token in the URL", () => {
		expect(socketUrl("http://127.0.0.1:8787", "lobby", { resume: null, after: null })).toBe("ws://127.0.0.1:8787/v1/rooms/lobby/ws");
	});

	it("turns https into wss and keeps a base path", () => {
		expect(socketUrl("https://example.com/baton/", "a:b", { resume: null, after: null })).toBe("wss://example.com/baton/v1/rooms/a%3Ab/ws");
	});

	it("adds resume and after when there are some, after=0 included", () => {
		const url = new URL(socketUrl("ws://h", "r", { resume: "R+/=", after: 0 }));
		expect(url.searchParams.get("resume")).toBe("R+/=");
		expect(url.searchParams.get("after")).toBe("0");
	});

	it("drops a query string and fragment carried by the base URL", () => {
		expect(socketUrl("https://h/?x=1#f", "r", { resume: null, after: 3 })).toBe("wss://h/v1/rooms/r/ws?after=3");
	});
});

describe("socketProtocols", () => {
	it("offers baton.v1 and carries the access token as baton.auth.<jwt>", () => {
		expect(socketProtocols("a.b.c")).toEqual(["baton.v1", "baton.auth.a.b.c"]);
	});
});

describe("assertBaseUrl", () => {
	it("refuses relative URLs and other schemes", () => {
		expect(() => assertBaseUrl("/relative")).toThrow(TypeError);
		expect(() => assertBaseUrl("ftp://h")).toThrow(TypeError);
		expect(() => assertBaseUrl("wss://h")).not.toThrow();
	});
});
