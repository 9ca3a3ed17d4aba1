import { beforeEach, describe, expect, it, vi } from "vitest";
import { CloseCode, MIN_REFRESH_INTERVAL_MS, REFRESH_LEAD_MS } from "../../client/index.ts";
import { readTokenClaims } from "../../client/jwt.ts";
import { refreshDelay } from "../../client/refresh.ts";
import { parseClientFrame } from "../../protocol/index.ts";
import type { FakeWebSocket } from "./fake-websocket.ts";
import { expectRedialAfter, expIn, fakeJwt, startOpen, useFakes } from "./harness.ts";

useFakes();

/** The tokens the SDK sent in `auth` frames on `ws`. */
function authTokens(ws: FakeWebSocket): string[] {
	const out: string[] = [];
	for (const text of ws.sent) {
		const parsed = parseClientFrame(text);
		if (parsed.ok && parsed.value.type === "auth") out.push(parsed.value.token);
	}
	return out;
}

/** A token function handing out fresh JWTs of `lifetimeMs`, counting its calls. */
function tokenSource(lifetimeMs: number, sub = "u") {
	const issued: string[] = [];
	const source = () => {
		const token = fakeJwt({ sub, exp: expIn(lifetimeMs), n: issued.length });
		issued.push(token);
		return token;
	};
	return { source, issued };
}

describe("refreshDelay (CONTRACT.md §11)", () => {
	const now = 1_000_000_000_000;
	it.each([
		["a 10-minute token: 30 s before exp", 600_000, 570_000],
		["a 61 s token: 30 s before exp", 61_000, 31_000],
		["a 60 s token: half-way", 60_000, 30_000],
		["a 20 s token: half-way, the 10 s floor", 20_000, 10_000],
		["a 12 s token: the 10 s floor since the last fetch, before exp", 12_000, 10_000],
	])("%s", (_name, lifetime, expected) => {
		expect(refreshDelay((now + lifetime) / 1000, now, now)).toBe(expected);
	});

	it("gives up on refreshing in band (null) when the 10 s floor lands at or past exp: the 4001 path renews it", () => {
		expect(refreshDelay((now + 4_000) / 1000, now, now)).toBeNull();
		expect(refreshDelay((now + 10_000) / 1000, now, now)).toBeNull();
		expect(refreshDelay((now - 5_000) / 1000, now, now - 60_000)).toBeNull();
	});

	it("exports the contract's figures", () => {
		expect([REFRESH_LEAD_MS, MIN_REFRESH_INTERVAL_MS]).toEqual([30_000, 10_000]);
	});
});

describe("readTokenClaims", () => {
	it("reads exp and sub without verifying, and {} for anything else", () => {
		expect(readTokenClaims(fakeJwt({ sub: "élodie", exp: 1234 }))).toEqual({ sub: "élodie", exp: 1234 });
		for (const token of ["opaque", "a..b", "a.!!!.c", `x.${Buffer.from("[1]").toString("base64url")}.y`]) expect(readTokenClaims(token)).toEqual({});
	});
});

describe("in-band token refresh", () => {
	// On a whole second, so `exp` (seconds) lands exactly where the lifetimes below say.
	beforeEach(() => {
		vi.setSystemTime(1_800_000_000_000);
	});

	it("sends a 20 s token's replacement half-way, adopts it on auth_ok and refreshes again, never reconnecting", async () => {
		const { source, issued } = tokenSource(20_000);
		const { room, events, ws } = await startOpen({ token: source }, { heartbeat: { interval: 0, timeout: 0 } });
		expect(issued).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(9_999);
		expect(authTokens(ws)).toEqual([]);
		await vi.advanceTimersByTimeAsync(1);
		expect(authTokens(ws)).toEqual([issued[1]]);
		ws.receive({ type: "auth_ok", exp: readTokenClaims(issued[1] ?? "").exp });
		await vi.advanceTimersByTimeAsync(10_000);
		expect(authTokens(ws)).toEqual([issued[1], issued[2]]);
		ws.receive({ type: "auth_ok", exp: readTokenClaims(issued[2] ?? "").exp });
		await vi.advanceTimersByTimeAsync(10_000);
		expect(authTokens(ws)).toHaveLength(3);
		expect(events.close).toEqual([]);
		expect(room.state).toBe("open");
	});

	it("refreshes a 10-minute token 30 s before it expires", async () => {
		const { source, issued } = tokenSource(600_000);
		const { ws } = await startOpen({ token: source }, { heartbeat: { interval: 0, timeout: 0 } });
		await vi.advanceTimersByTimeAsync(569_999);
		expect(authTokens(ws)).toEqual([]);
		await vi.advanceTimersByTimeAsync(1);
		expect(authTokens(ws)).toEqual([issued[1]]);
	});

	it("never calls the token function more often than once per 10 s: a 12 s token is refreshed at 10 s", async () => {
		const { source, issued } = tokenSource(12_000);
		const { ws } = await startOpen({ token: source }, { heartbeat: { interval: 0, timeout: 0 } });
		await vi.advanceTimersByTimeAsync(9_999);
		expect(issued).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(1);
		expect(issued).toHaveLength(2);
		expect(authTokens(ws)).toHaveLength(1);
	});

	it("does not refresh in band a token that expires before the 10 s pace allows; the room's 4001 renews it", async () => {
		const { source, issued } = tokenSource(2_000);
		const { ws } = await startOpen({ token: source }, { resume: "r-1", heartbeat: { interval: 0, timeout: 0 } });
		await vi.advanceTimersByTimeAsync(30_000);
		expect(issued).toHaveLength(1);
		expect(authTokens(ws)).toEqual([]);
		ws.serverClose(CloseCode.Unauthorized, { code: "unauthorized" });
		const next = await expectRedialAfter(0);
		expect(next.token).toBe(issued[1]);
	});

	it("after the room refuses the new token, surfaces `unauthorized`, stops refreshing, and on the 4001 reconnects with a fresh token", async () => {
		const { source, issued } = tokenSource(20_000);
		const { events, ws } = await startOpen({ token: source }, { resume: "r-1", heartbeat: { interval: 0, timeout: 0 } });
		await vi.advanceTimersByTimeAsync(10_000);
		expect(authTokens(ws)).toHaveLength(1);
		ws.receive({ type: "error", code: "unauthorized", message: "sub mismatch" });
		expect(events.error).toEqual([{ code: "unauthorized", message: expect.stringContaining("refused the refreshed token") }]);
		await vi.advanceTimersByTimeAsync(30_000);
		expect(authTokens(ws)).toHaveLength(1);
		// The old token expires: the room closes with 4001, the fallback path.
		ws.serverClose(CloseCode.Unauthorized, { code: "unauthorized" });
		const next = await expectRedialAfter(0);
		expect(next.token).toBe(issued.at(-1));
		expect(issued).toHaveLength(3);
		expect(next.query.get("resume")).toBe("r-1");
	});

	it("asks again later, on the usual schedule, when the function hands back the same token", async () => {
		const token = fakeJwt({ sub: "u", exp: expIn(60_000) });
		let calls = 0;
		const { ws } = await startOpen(
			{
				token: () => {
					calls++;
					return token;
				},
			},
			{ heartbeat: { interval: 0, timeout: 0 } },
		);
		await vi.advanceTimersByTimeAsync(30_000);
		expect(calls).toBe(2);
		expect(authTokens(ws)).toEqual([]);
		// Half of the remaining 30 s.
		await vi.advanceTimersByTimeAsync(14_999);
		expect(calls).toBe(2);
		await vi.advanceTimersByTimeAsync(1);
		expect(calls).toBe(3);
	});

	it("reports a token function that throws during a refresh and tries again on the usual schedule", async () => {
		let calls = 0;
		const token = () => {
			calls++;
			if (calls === 2) throw new Error("idp down");
			return fakeJwt({ sub: "u", exp: expIn(60_000), n: calls });
		};
		const { events, ws } = await startOpen({ token }, { heartbeat: { interval: 0, timeout: 0 } });
		// Half-way through the 60 s: the function throws.
		await vi.advanceTimersByTimeAsync(30_000);
		expect(events.error.map((e) => e.code)).toEqual(["token_unavailable"]);
		// Half of the remaining 30 s later, it is asked again.
		await vi.advanceTimersByTimeAsync(14_999);
		expect(authTokens(ws)).toHaveLength(0);
		await vi.advanceTimersByTimeAsync(1);
		expect(authTokens(ws)).toHaveLength(1);
	});

	it("never refreshes a string token in band", async () => {
		const token = fakeJwt({ sub: "u", exp: expIn(20_000) });
		const { ws } = await startOpen({ token }, { heartbeat: { interval: 0, timeout: 0 } });
		// No refresh timer: only the connection's close watch (the heartbeat is off).
		const baseline = vi.getTimerCount();
		await vi.advanceTimersByTimeAsync(60_000);
		expect(authTokens(ws)).toEqual([]);
		expect(vi.getTimerCount()).toBe(baseline);
		expect(baseline).toBe(1);
	});

	it("fetches a new token before dialing when the cached one has expired", async () => {
		const { source, issued } = tokenSource(5_000);
		const { ws } = await startOpen({ token: source, backoff: { base: 20_000, cap: 20_000 } }, { heartbeat: { interval: 0, timeout: 0 } });
		ws.serverClose(CloseCode.Abnormal);
		// Backoff: 0.5 × 20 s = 10 s, when the 5 s token is long expired.
		const next = await expectRedialAfter(10_000);
		expect(issued).toHaveLength(2);
		expect(next.token).toBe(issued[1]);
	});
});
