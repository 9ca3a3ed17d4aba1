/**
 * The close-code vocabulary (CONTRACT.md §6): one reaction per code, sendability per RFC 6455
 * §7.4, close reasons clamped to 123 bytes, and the refused-upgrade mapping of §3.
 */
import { describe, expect, it } from "vitest";
import {
	CloseCode,
	type CloseReaction,
	clampCloseReason,
	closeReaction,
	isReservedCloseCode,
	isSendableCloseCode,
	MAX_CLOSE_REASON_BYTES,
	parseCloseReason,
} from "../../protocol/close-codes.ts";
import { ERROR_HTTP_STATUS, ErrorCode, isErrorCode, upgradeRefusalCloseCode } from "../../protocol/error-codes.ts";

const bytes = (s: string) => new TextEncoder().encode(s).length;

/** The "SDK reaction" column of §6, one row per code. */
const REACTIONS: Record<CloseCode, CloseReaction> = {
	1000: { kind: "stop", surface: false },
	1001: { kind: "resume", delay: "jitter", refreshToken: false },
	1003: { kind: "stop", surface: true },
	1006: { kind: "resume", delay: "backoff", refreshToken: false },
	1008: { kind: "stop", surface: true },
	1009: { kind: "resume", delay: "backoff", refreshToken: false, dropPending: true },
	1011: { kind: "resume", delay: "backoff", refreshToken: false },
	1012: { kind: "resume", delay: "retryIn", refreshToken: false },
	1013: { kind: "resume", delay: "retryIn", refreshToken: false },
	4001: { kind: "resume", delay: "now", refreshToken: true },
	4003: { kind: "stop", surface: true },
	4008: { kind: "resume", delay: "backoff", refreshToken: false },
	4009: { kind: "resume", delay: "backoff", refreshToken: false },
	4010: { kind: "resume", delay: "now", refreshToken: false },
	4011: { kind: "stop", surface: true },
	4013: { kind: "resume", delay: "backoff", refreshToken: false },
	4400: { kind: "stop", surface: true },
	// Sent by clients only; a server never closes with it, so it reads as an unknown code.
	4000: { kind: "resume", delay: "backoff", refreshToken: false },
};

describe("CloseCode", () => {
	it("has exactly the codes of §6", () => {
		expect(Object.values(CloseCode).sort()).toEqual(
			[1000, 1001, 1003, 1006, 1008, 1009, 1011, 1012, 1013, 4000, 4001, 4003, 4008, 4009, 4010, 4011, 4013, 4400].sort(),
		);
	});

	for (const code of Object.values(CloseCode)) {
		it(`maps ${code} to its §6 reaction`, () => {
			expect(closeReaction(code)).toEqual(REACTIONS[code]);
		});
	}

	it.each([1002, 1007, 1015, 3000, 4999, 0])("treats unknown code %i like an abrupt loss: resume with backoff", (code) => {
		expect(closeReaction(code)).toEqual({ kind: "resume", delay: "backoff", refreshToken: false });
	});

	it("never tells the SDK to stop for codes that lose nothing by resuming (4001, 4010, 1012)", () => {
		for (const code of [CloseCode.Unauthorized, CloseCode.RoomMoved, CloseCode.ServiceRestart]) expect(closeReaction(code).kind).toBe("resume");
	});
});

describe("isSendableCloseCode", () => {
	it("refuses the reserved codes 1004, 1005, 1006 and 1015", () => {
		for (const code of [1004, 1005, 1006, 1015]) expect(isSendableCloseCode(code)).toBe(false);
		for (const code of [1005, 1006, 1015]) expect(isReservedCloseCode(code)).toBe(true);
	});

	it("accepts 1000-1003, 1007-1014 and 3000-4999", () => {
		for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4400, 4999]) {
			expect(isSendableCloseCode(code)).toBe(true);
		}
	});

	it("refuses codes outside the RFC ranges", () => {
		for (const code of [0, 999, 1016, 2000, 2999, 5000, 65535]) expect(isSendableCloseCode(code)).toBe(false);
	});

	it("holds for every code baton sends (all but the observed-only 1006)", () => {
		for (const code of Object.values(CloseCode)) expect(isSendableCloseCode(code)).toBe(code !== CloseCode.Abnormal);
	});
});

describe("clampCloseReason", () => {
	it("leaves reasons of up to 123 bytes untouched", () => {
		expect(clampCloseReason("")).toBe("");
		expect(clampCloseReason('{"code":"room_full","retryIn":4999}')).toBe('{"code":"room_full","retryIn":4999}');
		const exact = "a".repeat(MAX_CLOSE_REASON_BYTES);
		expect(clampCloseReason(exact)).toBe(exact);
	});

	it("cuts ASCII to exactly 123 bytes", () => {
		expect(clampCloseReason("a".repeat(124))).toBe("a".repeat(123));
		expect(clampCloseReason("a".repeat(500))).toHaveLength(123);
	});

	it.each([
		["two-byte characters", "é".repeat(100), 61],
		["three-byte characters", "€".repeat(100), 41],
		["four-byte characters (surrogate pairs)", "😀".repeat(40), 30],
	])("cuts %s at a character boundary, never above 123 bytes", (_name, reason, chars) => {
		const out = clampCloseReason(reason);
		expect(bytes(out)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
		expect([...out]).toHaveLength(chars);
		expect(reason.startsWith(out)).toBe(true);
		// Well-formed UTF-16: no lone surrogate survives.
		expect(new TextDecoder().decode(new TextEncoder().encode(out))).toBe(out);
	});

	it("cuts a mixed reason without splitting the character that would cross 123 bytes", () => {
		const reason = `${"a".repeat(121)}😀b`;
		expect(clampCloseReason(reason)).toBe("a".repeat(121));
		const fits = `${"a".repeat(119)}😀b`;
		expect(clampCloseReason(fits)).toBe(`${"a".repeat(119)}😀`);
	});
});

describe("parseCloseReason", () => {
	it("reads code, retryIn and home from a JSON reason", () => {
		expect(parseCloseReason('{"code":"room_full","retryIn":1500}')).toEqual({ code: "room_full", retryIn: 1500 });
		expect(parseCloseReason('{"home":"weur","retryIn":0}')).toEqual({ home: "weur", retryIn: 0 });
	});

	it.each([undefined, "", "not json", "[]", "null", "42"])("yields {} for %j", (reason) => {
		expect(parseCloseReason(reason)).toEqual({});
	});

	it("drops fields of the wrong type or a negative retryIn", () => {
		expect(parseCloseReason('{"code":1,"retryIn":-5,"home":null}')).toEqual({});
		expect(parseCloseReason('{"retryIn":"100"}')).toEqual({});
	});
});

describe("error codes", () => {
	it("refuses upgrades with the §3 close codes", () => {
		expect(upgradeRefusalCloseCode(ErrorCode.Unauthorized)).toBe(4001);
		expect(upgradeRefusalCloseCode(ErrorCode.Forbidden)).toBe(4003);
		expect(upgradeRefusalCloseCode(ErrorCode.OriginNotAllowed)).toBe(4003);
		expect(upgradeRefusalCloseCode(ErrorCode.BadRoom)).toBe(4400);
		expect(upgradeRefusalCloseCode(ErrorCode.BadRequest)).toBe(4400);
		expect(upgradeRefusalCloseCode(ErrorCode.RoomFull)).toBe(1013);
		expect(upgradeRefusalCloseCode(ErrorCode.ServerMisconfigured)).toBe(1011);
		expect(upgradeRefusalCloseCode(ErrorCode.Internal)).toBe(1011);
	});

	it("maps the HTTP errors of §3 to their statuses", () => {
		expect(ERROR_HTTP_STATUS).toMatchObject({
			unauthorized: 401,
			forbidden: 403,
			origin_not_allowed: 403,
			bad_room: 400,
			bad_request: 400,
			room_full: 503,
			server_misconfigured: 500,
			upgrade_required: 426,
			too_large: 413,
			not_found: 404,
			bad_region: 400,
			already_there: 409,
		});
		for (const code of Object.values(ErrorCode)) expect(ERROR_HTTP_STATUS[code]).toEqual(expect.any(Number));
	});

	it("error codes are snake_case and recognised by isErrorCode", () => {
		for (const code of Object.values(ErrorCode)) {
			expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
			expect(isErrorCode(code)).toBe(true);
		}
		expect(isErrorCode("teapot")).toBe(false);
		expect(isErrorCode(401)).toBe(false);
	});
});
