import { describe, expect, it } from "vitest";
import { type LossFacts, nextStep } from "../../client/policy.ts";
import { CloseCode } from "../../protocol/index.ts";

const backoff = { base: 100, cap: 1_000 };

/** Facts for a welcomed link closed with `code`; random pinned to 0.5. */
function facts(code: number, reason: string | object = "", over: Partial<LossFacts> = {}): LossFacts {
	return {
		loss: { kind: "close", code, reason: typeof reason === "string" ? reason : JSON.stringify(reason) },
		welcomed: true,
		attempt: 0,
		unauthorizedSinceWelcome: code === CloseCode.Unauthorized ? 1 : 0,
		canRefreshToken: true,
		backoff,
		random: () => 0.5,
		...over,
	};
}

describe("stop codes (CONTRACT §6)", () => {
	it("stops without an error on 1000", () => {
		expect(nextStep(facts(CloseCode.Normal))).toEqual({ kind: "stop", closeCode: 1000, reasonCode: undefined, surface: false });
	});

	it.each([[CloseCode.UnsupportedData], [CloseCode.PolicyViolation], [CloseCode.Forbidden], [CloseCode.SessionReplaced], [CloseCode.BadRequest]])(
		"stops and surfaces an error on %i",
		(code) => {
			expect(nextStep(facts(code))).toMatchObject({ kind: "stop", closeCode: code, surface: true });
		},
	);

	it("carries the error code from the close reason", () => {
		expect(nextStep(facts(CloseCode.Forbidden, { code: "origin_not_allowed" }))).toMatchObject({
			kind: "stop",
			reasonCode: "origin_not_allowed",
		});
	});
});

describe("resume codes (CONTRACT §6)", () => {
	it("resumes after a small jitter below one base delay on 1001", () => {
		expect(nextStep(facts(CloseCode.GoingAway))).toEqual({
			kind: "retry",
			delayMs: 50,
			refreshToken: false,
			dropTooLarge: false,
			nextEndpoint: false,
		});
	});

	it.each([[CloseCode.Abnormal], [CloseCode.InternalError], [CloseCode.HeartbeatTimeout], [CloseCode.RateLimited], [4999], [1005]])(
		"resumes with exponential backoff on %i",
		(code) => {
			expect(nextStep(facts(code, "", { attempt: 0 }))).toMatchObject({ kind: "retry", delayMs: 50 });
			expect(nextStep(facts(code, "", { attempt: 3 }))).toMatchObject({ kind: "retry", delayMs: 400 });
			expect(nextStep(facts(code, "", { attempt: 30 }))).toMatchObject({ kind: "retry", delayMs: 500 });
		},
	);

	it("resumes after retryIn plus less than one base of jitter on 1012", () => {
		expect(nextStep(facts(CloseCode.ServiceRestart, { retryIn: 2_000 }))).toMatchObject({ kind: "retry", delayMs: 2_050 });
		expect(nextStep(facts(CloseCode.ServiceRestart, { retryIn: 2_000 }, { attempt: 9 }))).toMatchObject({ delayMs: 2_050 });
	});

	it("waits retryIn and still backs off on 1013", () => {
		expect(nextStep(facts(CloseCode.TryAgainLater, { code: "room_full", retryIn: 1_000 }, { attempt: 2 }))).toMatchObject({
			kind: "retry",
			delayMs: 1_200,
		});
	});

	it("falls back to backoff when a 1012 carries no retryIn", () => {
		expect(nextStep(facts(CloseCode.ServiceRestart, "not json", { attempt: 1 }))).toMatchObject({ delayMs: 100 });
	});

	it("resumes at once on 4010 room moved", () => {
		expect(nextStep(facts(CloseCode.RoomMoved, { home: "weur", retryIn: 0 }))).toMatchObject({ kind: "retry", delayMs: 0 });
	});

	it("drops the too-large publish and resumes with backoff on 1009", () => {
		expect(nextStep(facts(CloseCode.MessageTooBig))).toMatchObject({ kind: "retry", delayMs: 50, dropTooLarge: true });
	});

	it("refreshes the token and resumes at once on a first 4001", () => {
		expect(nextStep(facts(CloseCode.Unauthorized))).toMatchObject({ kind: "retry", delayMs: 0, refreshToken: true });
	});

	it("stops on a second 4001 with no welcome since the refresh", () => {
		expect(nextStep(facts(CloseCode.Unauthorized, { code: "unauthorized" }, { unauthorizedSinceWelcome: 2 }))).toEqual({
			kind: "stop",
			closeCode: 4001,
			reasonCode: "unauthorized",
			surface: true,
		});
	});

	it("stops on 4001 when the token is a fixed string that cannot be refreshed", () => {
		expect(nextStep(facts(CloseCode.Unauthorized, "", { canRefreshToken: false }))).toMatchObject({ kind: "stop", surface: true });
	});
});

describe("guards and failover", () => {
	it("backs off instead of reconnecting at once when the link never got a welcome", () => {
		expect(nextStep(facts(CloseCode.RoomMoved, "", { welcomed: false, attempt: 2 }))).toMatchObject({ delayMs: 200 });
	});

	it("moves to the next endpoint when a connect fails before welcome", () => {
		expect(nextStep(facts(CloseCode.InternalError, "", { welcomed: false }))).toMatchObject({ nextEndpoint: true });
	});

	it("moves to the next endpoint on 1006 even after a welcome", () => {
		expect(nextStep(facts(CloseCode.Abnormal))).toMatchObject({ nextEndpoint: true });
	});

	it("stays on the endpoint for other closes of a welcomed link", () => {
		expect(nextStep(facts(CloseCode.ServiceRestart, { retryIn: 0 }))).toMatchObject({ nextEndpoint: false });
	});

	it("treats a heartbeat timeout detected locally like 4008", () => {
		const step = nextStep({ ...facts(0), loss: { kind: "local", cause: "heartbeat_timeout" }, attempt: 1 });
		expect(step).toMatchObject({ kind: "retry", delayMs: 100, nextEndpoint: false });
	});

	it("treats a connect timeout as a failed connect that moves to the next endpoint", () => {
		const step = nextStep({ ...facts(0), loss: { kind: "local", cause: "connect_timeout" }, welcomed: false });
		expect(step).toMatchObject({ kind: "retry", nextEndpoint: true });
	});
});

describe("app-requested reconnects", () => {
	it("reconnects at once on the same endpoint, even before a welcome", () => {
		const step = nextStep({ ...facts(0), loss: { kind: "local", cause: "reconnect_requested" }, welcomed: false, attempt: 5 });
		expect(step).toEqual({ kind: "retry", delayMs: 0, refreshToken: false, dropTooLarge: false, nextEndpoint: false });
	});
});
