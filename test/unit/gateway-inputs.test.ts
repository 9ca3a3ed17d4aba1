/**
 * The gateway's pure input handling: room names, numeric query parameters, where a token is
 * found (§4, §9), the origin allow-list, configuration parsing (§2) and the trusted connect header.
 */
import { describe, expect, it, vi } from "vitest";
import { isValidRoomName, roomMessagesPath, roomSocketPath } from "../../protocol/paths.ts";
import { type ConfigEnv, readConfig } from "../../src/core/config.ts";
import { CONNECT_INFO_VERSION, type ConnectInfo, decodeConnectInfo, encodeConnectInfo } from "../../src/core/internal.ts";
import { originAllowed } from "../../src/gateway/origin.ts";
import { parseNonNegativeInt } from "../../src/gateway/params.ts";
import { findToken, offersBatonProtocol } from "../../src/gateway/token-lookup.ts";

const quietConfig = (env: ConfigEnv) => {
	const spies = [vi.spyOn(console, "warn").mockImplementation(() => {}), vi.spyOn(console, "error").mockImplementation(() => {})];
	try {
		return readConfig(env);
	} finally {
		for (const s of spies) s.mockRestore();
	}
};

describe("room names", () => {
	it.each(["a", "A", "0", "lobby", "team-x", "a.b:c_d-e", `a${"b".repeat(127)}`])("accepts %s", (name) => {
		expect(isValidRoomName(name)).toBe(true);
	});

	it.each(["", "-a", ".a", "_a", ":a", "a b", "a/b", "a@1", "é", "a\n", `a${"b".repeat(128)}`])("refuses %j", (name) => {
		expect(isValidRoomName(name)).toBe(false);
	});

	it("builds encoded paths", () => {
		expect(roomSocketPath("a:b")).toBe("/v1/rooms/a%3Ab/ws");
		expect(roomMessagesPath("lobby")).toBe("/v1/rooms/lobby/messages");
	});
});

describe("parseNonNegativeInt", () => {
	it("reads absent as null and digits as numbers", () => {
		expect(parseNonNegativeInt(null)).toBeNull();
		expect(parseNonNegativeInt("0")).toBe(0);
		expect(parseNonNegativeInt("42")).toBe(42);
		expect(parseNonNegativeInt("007")).toBe(7);
	});

	it.each(["", "-1", "+1", "1.5", "1e3", "abc", " 1", "0x10", "1".repeat(16)])("refuses %j as invalid", (raw) => {
		expect(parseNonNegativeInt(raw)).toBe("invalid");
	});
});

describe("findToken", () => {
	const req = (headers: Record<string, string>, query = "") => {
		const url = new URL(`http://x/v1/rooms/r/ws${query}`);
		return [new Request(url, { headers }), url] as const;
	};

	it("looks in the header first, then ?token=, then the subprotocol", () => {
		expect(findToken(...req({ Authorization: "Bearer h" }, "?token=q"))).toEqual({ place: "header", token: "h" });
		expect(findToken(...req({ "Sec-WebSocket-Protocol": "baton.v1, baton.auth.s" }, "?token=q"))).toEqual({ place: "query", token: "q" });
		expect(findToken(...req({ "Sec-WebSocket-Protocol": "baton.v1, baton.auth.s" }))).toEqual({ place: "subprotocol", token: "s" });
		expect(findToken(...req({}))).toBeNull();
	});

	it("the first place that holds something is the only one used, even when it is not a token", () => {
		expect(findToken(...req({ Authorization: "Basic abc" }, "?token=q"))).toEqual({ place: "header", token: "" });
		expect(findToken(...req({ Authorization: "Bearer" }, "?token=q"))).toEqual({ place: "header", token: "" });
		expect(findToken(...req({}, "?token=&x=1"))).toEqual({ place: "query", token: "" });
	});

	it("accepts any case of Bearer and extra spaces", () => {
		expect(findToken(...req({ Authorization: "bearer   t" }))?.token).toBe("t");
	});

	it("reads whether baton.v1 was offered", () => {
		expect(offersBatonProtocol(new Request("http://x", { headers: { "Sec-WebSocket-Protocol": "baton.auth.t,baton.v1" } }))).toBe(true);
		expect(offersBatonProtocol(new Request("http://x", { headers: { "Sec-WebSocket-Protocol": "baton.v2" } }))).toBe(false);
		expect(offersBatonProtocol(new Request("http://x"))).toBe(false);
	});
});

describe("originAllowed", () => {
	const config = quietConfig({ BATON_ALLOWED_ORIGINS: "https://app.example, http://127.0.0.1:8787" });
	const withOrigin = (origin?: string) => new Request("http://x", origin === undefined ? {} : { headers: { Origin: origin } });

	it("allows requests without Origin and exact matches only", () => {
		expect(originAllowed(withOrigin(), config)).toBe(true);
		expect(originAllowed(withOrigin("https://app.example"), config)).toBe(true);
		expect(originAllowed(withOrigin("http://127.0.0.1:8787"), config)).toBe(true);
		expect(originAllowed(withOrigin("https://app.example.evil"), config)).toBe(false);
		expect(originAllowed(withOrigin("http://app.example"), config)).toBe(false);
		expect(originAllowed(withOrigin("null"), config)).toBe(false);
	});

	it("* allows every origin", () => {
		expect(originAllowed(withOrigin("https://any.example"), quietConfig({ BATON_ALLOWED_ORIGINS: "*" }))).toBe(true);
		expect(originAllowed(withOrigin("https://any.example"), quietConfig({}))).toBe(true);
	});
});

describe("readConfig", () => {
	it("uses the §2 defaults", () => {
		expect(quietConfig({ BATON_JWT_SECRET: "s" })).toMatchObject({
			jwtSecret: "s",
			adminToken: null,
			allowedOrigins: "*",
			region: null,
			regions: ["wnam", "weur", "apac"],
			heartbeatIntervalMs: 30_000,
			heartbeatTimeoutMs: 90_000,
			maxMessageBytes: 65_536,
			historyLimit: 1000,
			resumeWindowMs: 600_000,
			rateLimitPerSec: 20,
			rateLimitBurst: 40,
			maxConnectionsPerRoom: 5000,
		});
	});

	it("fails closed without a secret: jwtSecret is null (a blank one too)", () => {
		expect(quietConfig({}).jwtSecret).toBeNull();
		expect(quietConfig({ BATON_JWT_SECRET: "   " }).jwtSecret).toBeNull();
	});

	it.each(["0", "-5", "1.5", "abc"])("falls back to the default for the invalid number %j", (raw) => {
		expect(quietConfig({ HISTORY_LIMIT: raw }).historyLimit).toBe(1000);
	});

	it("ignores unknown regions and an unknown BATON_REGION", () => {
		const c = quietConfig({ BATON_REGIONS: "weur, mars ,apac", BATON_REGION: "mars" });
		expect(c.regions).toEqual(["weur", "apac"]);
		expect(c.region).toBeNull();
	});

	it("never lets the heartbeat timeout default below the interval", () => {
		expect(quietConfig({ HEARTBEAT_INTERVAL_MS: "120000" }).heartbeatTimeoutMs).toBe(120_000);
	});
});

describe("the gateway → room connect header", () => {
	const info: ConnectInfo = {
		room: "lobby",
		sub: "alice",
		name: "Ålice \u{1F600}",
		exp: 1_800_000_000,
		mayPublish: false,
		resume: null,
		after: 3,
		epoch: "AAAAAAAAAAAAAAAAAAAAAA",
		region: "wnam",
		homeHint: "weur",
		subprotocol: true,
		claims: { sub: "alice", exp: 1_800_000_000, name: "Ålice \u{1F600}", rooms: ["lobby"] },
		requestId: "8c2a5e1f9b0d4e11-WNAM",
	};
	const header = (fields: Record<string, unknown>) => encodeURIComponent(JSON.stringify(fields));
	const { v: _v, claims: _claims, requestId: _requestId, ...previousVersion } = { v: 1, ...info };

	it("round-trips, non-ASCII names included", () => {
		expect(decodeConnectInfo(encodeConnectInfo(info))).toEqual(info);
		expect(decodeConnectInfo(encodeConnectInfo({ ...info, resume: "t.s", mayPublish: true, after: null }))).toEqual({
			...info,
			resume: "t.s",
			mayPublish: true,
			after: null,
		});
	});

	it(`carries its version (${CONNECT_INFO_VERSION}) and every field the previous version requires, so an older room reads it`, () => {
		const sent = JSON.parse(decodeURIComponent(encodeConnectInfo(info))) as Record<string, unknown>;
		expect(sent.v).toBe(CONNECT_INFO_VERSION);
		for (const [field, value] of Object.entries(previousVersion)) expect(sent[field], field).toEqual(value);
	});

	it("reads the previous version (no v, no claims): claims default to what the header says of the token", () => {
		expect(decodeConnectInfo(header(previousVersion))).toEqual({ ...info, claims: { sub: "alice", name: info.name, exp: info.exp }, requestId: null });
	});

	it("defaults fields an older gateway did not send, and ignores fields it does not know", () => {
		const { mayPublish: _m, resume: _r, after: _a, subprotocol: _s, ...oldest } = previousVersion;
		expect(decodeConnectInfo(header({ ...oldest, claims: info.claims, requestId: info.requestId, v: 4, newer: { anything: true } }))).toEqual({
			...info,
			mayPublish: true,
			resume: null,
			after: null,
			subprotocol: false,
		});
	});

	it.each([
		["absent", null],
		["not JSON", "%7Bnope"],
		["bad percent-encoding", "%E0%A4%A"],
		["a missing field", encodeURIComponent(JSON.stringify({ ...info, sub: undefined }))],
		["a wrong type", encodeURIComponent(JSON.stringify({ ...info, exp: "1" }))],
		["claims that are not an object", encodeURIComponent(JSON.stringify({ ...info, claims: ["sub"] }))],
		["a present field of a wrong type", encodeURIComponent(JSON.stringify({ ...info, mayPublish: "yes" }))],
		["a request id that is not a string", encodeURIComponent(JSON.stringify({ ...info, requestId: 7 }))],
	])("is refused (null) when %s", (_name, header) => {
		expect(decodeConnectInfo(header)).toBeNull();
	});
});
