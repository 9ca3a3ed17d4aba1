/**
 * Publish limits as pure functions (CONTRACT.md §5, §9, §13): the token bucket (one per (room,
 * sub)), and over the attachment the 4009 refusal counter and the 1008 protocol-error strikes.
 */
import { describe, expect, it } from "vitest";
import { ATTACHMENT_VERSION, type Attachment, readAttachment } from "../../durable-objects/room/attachment.ts";
import {
	type Bucket,
	countRefusal,
	countStrike,
	isFull,
	MAX_STRIKES,
	msUntilToken,
	noteRateOutcome,
	REFUSAL_WINDOW_MS,
	STRIKE_WINDOW_MS,
	takePublishToken,
	waitsBehindRefused,
} from "../../durable-objects/room/rate-limit.ts";

const RATE = { perSec: 20, burst: 40 };
const T0 = 1_800_000_000_000;

const bucket = (overrides: Partial<Bucket> = {}): Bucket => ({ tokens: RATE.burst, at: T0, ...overrides });

function fresh(overrides: Partial<Attachment> = {}): Attachment {
	return {
		v: ATTACHMENT_VERSION,
		session: "s",
		sub: "alice",
		name: "alice",
		exp: T0 / 1000 + 3600,
		mayPublish: true,
		connectedAt: T0,
		lastSeen: T0,
		strikes: [],
		refusals: 0,
		refusalsAt: 0,
		...overrides,
	};
}

describe("takePublishToken", () => {
	it("allows a full burst at one instant, then refuses", () => {
		const a = bucket();
		for (let i = 0; i < RATE.burst; i++) expect(takePublishToken(a, T0, RATE), `publish ${i}`).toBe(true);
		expect(takePublishToken(a, T0, RATE)).toBe(false);
		expect(takePublishToken(a, T0, RATE)).toBe(false);
	});

	it("refills at RATE_LIMIT_PER_SEC: one token every 50 ms at 20/s", () => {
		const a = bucket({ tokens: 0 });
		expect(takePublishToken(a, T0 + 49, RATE)).toBe(false);
		expect(takePublishToken(a, T0 + 50, RATE)).toBe(true);
		expect(takePublishToken(a, T0 + 50, RATE)).toBe(false);
		expect(takePublishToken(a, T0 + 100, RATE)).toBe(true);
	});

	it("sustains exactly the rate over a long run", () => {
		const a = bucket({ tokens: 0 });
		let accepted = 0;
		for (let t = 1; t <= 10_000; t++) if (takePublishToken(a, T0 + t, RATE)) accepted++;
		expect(accepted).toBe(200);
	});

	it("never holds more than the burst, however long the bucket idled", () => {
		const a = bucket({ tokens: 0 });
		const later = T0 + 3_600_000;
		let accepted = 0;
		while (takePublishToken(a, later, RATE)) accepted++;
		expect(accepted).toBe(RATE.burst);
	});

	it("a clock that goes backwards refills nothing", () => {
		const a = bucket({ tokens: 0, at: T0 });
		expect(takePublishToken(a, T0 - 10_000, RATE)).toBe(false);
		expect(a.tokens).toBe(0);
	});

	it("says how long until a token is back, and when a bucket is full again", () => {
		const a = bucket({ tokens: 0 });
		expect(msUntilToken(a, T0, RATE)).toBe(50);
		expect(msUntilToken(a, T0 + 20, RATE)).toBe(30);
		expect(msUntilToken(a, T0 + 50, RATE)).toBe(0);
		expect(isFull(a, T0 + 50, RATE)).toBe(false);
		expect(isFull(a, T0 + (RATE.burst / RATE.perSec) * 1000, RATE)).toBe(true);
	});
});

describe("waitsBehindRefused (publish order under rate limiting)", () => {
	it("holds every later publish behind a refused one until that one is sent again", () => {
		const a = fresh();
		noteRateOutcome(a, "p1", false, false, T0);
		expect(waitsBehindRefused(a, "p2", T0 + 100)).toBe(true);
		expect(waitsBehindRefused(a, "p1", T0 + 100)).toBe(false);
		noteRateOutcome(a, "p1", true, false, T0 + 100);
		expect(waitsBehindRefused(a, "p2", T0 + 100)).toBe(false);
	});

	it("keeps the first refused id while later ones only wait behind it", () => {
		const a = fresh();
		noteRateOutcome(a, "p1", false, false, T0);
		noteRateOutcome(a, "p2", false, true, T0 + 1);
		expect(a.refusedId).toBe("p1");
	});

	it("lets go after the refusal window, for a client that gave the refused publish up", () => {
		const a = fresh();
		noteRateOutcome(a, "p1", false, false, T0);
		expect(waitsBehindRefused(a, "p2", T0 + REFUSAL_WINDOW_MS - 1)).toBe(true);
		expect(waitsBehindRefused(a, "p2", T0 + REFUSAL_WINDOW_MS)).toBe(false);
	});
});

describe("countRefusal", () => {
	it(`closes (true) on the refusal after 2 × burst within ${REFUSAL_WINDOW_MS} ms`, () => {
		const a = fresh();
		for (let i = 1; i <= 2 * RATE.burst; i++) expect(countRefusal(a, T0 + i, RATE), `refusal ${i}`).toBe(false);
		expect(countRefusal(a, T0 + 2 * RATE.burst + 1, RATE)).toBe(true);
	});

	it("starts a new window once the old one is over", () => {
		const a = fresh();
		for (let i = 0; i < 2 * RATE.burst; i++) countRefusal(a, T0, RATE);
		expect(countRefusal(a, T0 + REFUSAL_WINDOW_MS + 1, RATE)).toBe(false);
		expect(a.refusals).toBe(1);
	});

	it("keeps counting within the window (a refusal exactly at its end still counts)", () => {
		const a = fresh();
		for (let i = 0; i < 2 * RATE.burst; i++) countRefusal(a, T0, RATE);
		expect(countRefusal(a, T0 + REFUSAL_WINDOW_MS, RATE)).toBe(true);
	});
});

describe("countStrike", () => {
	it(`the ${MAX_STRIKES}th protocol error within ${STRIKE_WINDOW_MS} ms closes (true); the 9 before do not`, () => {
		const a = fresh();
		for (let i = 0; i < MAX_STRIKES - 1; i++) expect(countStrike(a, T0 + i * 1000)).toBe(false);
		expect(countStrike(a, T0 + 59_000)).toBe(true);
	});

	it("forgets strikes older than 60 s", () => {
		const a = fresh();
		for (let i = 0; i < MAX_STRIKES - 1; i++) countStrike(a, T0);
		expect(countStrike(a, T0 + STRIKE_WINDOW_MS)).toBe(false);
		expect(a.strikes).toEqual([T0 + STRIKE_WINDOW_MS]);
	});

	it("spread out errors never close: one every 7 s keeps at most 9 in any minute", () => {
		const a = fresh();
		for (let i = 0; i < 100; i++) expect(countStrike(a, T0 + i * 7000)).toBe(false);
	});

	it("keeps at most ten timestamps, so the attachment stays small", () => {
		const a = fresh();
		for (let i = 0; i < 50; i++) countStrike(a, T0 + i);
		expect(a.strikes.length).toBeLessThanOrEqual(MAX_STRIKES);
	});
});

describe("readAttachment", () => {
	const socket = (value: unknown, throws = false) =>
		({
			deserializeAttachment: () => {
				if (throws) throw new Error("closed");
				return value;
			},
		}) as unknown as WebSocket;

	it("returns a valid attachment as is", () => {
		const a = fresh({ closedWith: 1000 });
		expect(readAttachment(socket(a))).toEqual(a);
	});

	it.each([
		["null", null],
		["a string", "x"],
		["a newer version", { ...fresh(), v: ATTACHMENT_VERSION + 1 }],
		["a non-boolean mayPublish", { ...fresh(), mayPublish: "yes" }],
		["a missing session", { ...fresh(), session: undefined }],
		["a non-numeric exp", { ...fresh(), exp: "1" }],
		["strikes that are not numbers", { ...fresh(), strikes: ["a"] }],
		["a non-numeric closedWith", { ...fresh(), closedWith: "1000" }],
	])("returns null instead of throwing for %s", (_name, value) => {
		expect(readAttachment(socket(value))).toBeNull();
	});

	it("upgrades a version 1 attachment (before the publish claim) to one that may publish", () => {
		const { mayPublish: _dropped, ...v1 } = { ...fresh({ closedWith: 1000 }), v: 1 };
		expect(readAttachment(socket(v1))).toEqual(fresh({ closedWith: 1000 }));
	});

	it("keeps a read-only connection read-only", () => {
		expect(readAttachment(socket(fresh({ mayPublish: false })))?.mayPublish).toBe(false);
	});

	it("returns null when the runtime throws", () => {
		expect(readAttachment(socket(fresh(), true))).toBeNull();
	});
});
