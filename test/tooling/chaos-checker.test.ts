/**
 * The chaos soak's judges (chaos/checker.ts, chaos/scanner.ts, chaos/schedule.ts) on made-up
 * runs: a clean run passes, and every way a run can go wrong is caught, with the seq where it
 * first diverges. A checker that cannot fail proves nothing.
 */
import { describe, expect, it } from "vitest";
import { type CheckInput, check, type RoomAtRest } from "../../chaos/checker.ts";
import { type ClientRecord, newRecord, type PublishRecord } from "../../chaos/clients/records.ts";
import { mulberry32 } from "../../chaos/prng.ts";
import { SecretScanner } from "../../chaos/scanner.ts";
import { FAULT_BLOCK, FaultDeck } from "../../chaos/schedule.ts";
import type { MessageFrame } from "../../protocol/messages.ts";

const ROOM = "r";
const WINDOW_MS = 600_000;

function message(seq: number, id: string, from: string): MessageFrame {
	return { type: "message", seq, id, from, data: null, ts: 0 };
}

function acked(client: ClientRecord, id: string, seq: number): PublishRecord {
	const p: PublishRecord = { id, sub: client.sub, room: client.room, client: client.label, issuedAt: 0, settled: 1, outcome: "acked", seq, dup: false };
	client.publishes.push(p);
	return p;
}

/** Two clients, alice publishes 1..3, both deliver 1..3; the room at rest agrees. */
function cleanRun(): { input: CheckInput; alice: ClientRecord; bob: ClientRecord; rest: RoomAtRest } {
	const alice = newRecord({ label: "alice", slot: "alice", sub: "alice", room: ROOM, kind: "sdk", readOnly: false, startAfter: 0 });
	const bob = newRecord({ label: "bob", slot: "bob", sub: "bob", room: ROOM, kind: "raw", readOnly: true, startAfter: 0 });
	const history = [1, 2, 3].map((s) => message(s, `a.${s}`, "alice"));
	for (const m of history) {
		acked(alice, m.id, m.seq);
		for (const c of [alice, bob]) c.deliveries.push({ seq: m.seq, id: m.id, from: m.from });
	}
	alice.welcomes = bob.welcomes = 1;
	const rest: RoomAtRest = {
		history,
		head: 3,
		oldest: 1,
		presence: ["alice", "bob"],
		expectedPresence: ["alice", "bob"],
		homes: { wnam: "weur", weur: "weur", apac: "weur" },
		heads: { wnam: 3, weur: 3, apac: 3 },
		migrateToHomeStatus: 409,
	};
	const input: CheckInput = { rooms: new Map([[ROOM, rest]]), records: [alice, bob], activeAtEnd: new Set(["alice", "bob"]), resumeWindowMs: WINDOW_MS };
	return { input, alice, bob, rest };
}

function failuresOf(input: CheckInput): Array<{ check: string; seq?: number }> {
	return check(input).failures.map((f) => ({ check: f.check, ...(f.seq === undefined ? {} : { seq: f.seq }) }));
}

describe("chaos checker", () => {
	it("passes a clean run and counts it", () => {
		const { input } = cleanRun();
		const result = check(input);
		expect(result.failures).toEqual([]);
		expect(result.totals).toMatchObject({ publishes: 3, acked: 3, deliveries: 6, lost: 0, duplicated: 0, outOfOrder: 0 });
	});

	it("an acked publish missing from the history is lost, at its acked seq", () => {
		const { input, alice } = cleanRun();
		acked(alice, "a.4", 4);
		const result = check(input);
		expect(result.totals.lost).toBe(1);
		expect(failuresOf(input)).toContainEqual({ check: "acked-lost", seq: 4 });
	});

	it("an acked publish stored at another seq than its ack said", () => {
		const { input, alice } = cleanRun();
		const p = alice.publishes[1] as PublishRecord;
		p.seq = 3;
		expect(failuresOf(input)).toContainEqual({ check: "acked-seq", seq: 2 });
	});

	it("a seq delivered twice is a duplicate; one delivered late is out of order; one skipped is a gap", () => {
		const dup = cleanRun();
		dup.bob.deliveries.splice(2, 0, { seq: 2, id: "a.2", from: "alice" });
		expect(check(dup.input).totals.duplicated).toBe(1);
		expect(failuresOf(dup.input)).toEqual([{ check: "delivery-duplicate", seq: 2 }]);

		const order = cleanRun();
		order.bob.deliveries = [1, 3, 2].map((s) => ({ seq: s, id: `a.${s}`, from: "alice" }));
		expect(check(order.input).totals.outOfOrder).toBe(1);
		expect(failuresOf(order.input)).toContainEqual({ check: "delivery-gap", seq: 2 });

		const gap = cleanRun();
		gap.bob.deliveries = [1, 3].map((s) => ({ seq: s, id: `a.${s}`, from: "alice" }));
		expect(check(gap.input).totals.lost).toBe(1);
		expect(failuresOf(gap.input)).toEqual([{ check: "delivery-gap", seq: 2 }]);
	});

	it("a client still connected at rest but behind the head has lost the rest; one that left has not", () => {
		const behind = cleanRun();
		behind.bob.deliveries.pop();
		expect(failuresOf(behind.input)).toEqual([{ check: "delivery-behind", seq: 3 }]);
		behind.bob.left = true;
		const left = { ...behind.input, activeAtEnd: new Set(["alice"]) };
		expect(failuresOf(left)).toEqual([]);
	});

	it("a delivery that is not the history's message at that seq", () => {
		const { input, bob } = cleanRun();
		bob.deliveries[1] = { seq: 2, id: "forged", from: "mallory" };
		expect(failuresOf(input)).toEqual([{ check: "delivery-content", seq: 2 }]);
	});

	it("a history with a hole, a repeated id, a message nobody published, or the wrong sender", () => {
		const hole = cleanRun();
		hole.rest.history.splice(1, 1);
		expect(failuresOf(hole.input)).toEqual(expect.arrayContaining([{ check: "history" }, { check: "history", seq: 2 }]));

		const repeated = cleanRun();
		repeated.rest.history[2] = message(3, "a.2", "alice");
		expect(failuresOf(repeated.input)).toContainEqual({ check: "history-duplicate", seq: 3 });

		const phantom = cleanRun();
		phantom.rest.history.push(message(4, "ghost", "alice"));
		phantom.rest.head = 4;
		expect(failuresOf(phantom.input)).toContainEqual({ check: "history-phantom", seq: 4 });

		const from = cleanRun();
		from.rest.history[0] = message(1, "a.1", "bob");
		expect(failuresOf(from.input)).toContainEqual({ check: "history-from", seq: 1 });
	});

	it("a publish that never settled; one rejected while its client stayed", () => {
		const pending = cleanRun();
		pending.alice.publishes.push({ id: "a.9", sub: "alice", room: ROOM, client: "alice", issuedAt: 0, settled: 0, outcome: "pending" });
		expect(check(pending.input).totals.unsettled).toBe(1);
		expect(failuresOf(pending.input)).toEqual([{ check: "publish-settled" }]);

		const rejected = cleanRun();
		rejected.alice.publishes.push({ id: "a.9", sub: "alice", room: ROOM, client: "alice", issuedAt: 0, settled: 1, outcome: "rejected", error: "closed" });
		expect(failuresOf(rejected.input)).toEqual([{ check: "publish-rejected" }]);
		rejected.alice.left = true;
		expect(failuresOf({ ...rejected.input, activeAtEnd: new Set(["bob"]) })).toEqual([]);
	});

	it("a gap event is a failure within the resume window with the whole history kept, and allowed beyond it", () => {
		const { input, bob } = cleanRun();
		bob.gaps.push({ after: 0, next: 2 });
		bob.deliveries.shift();
		expect(failuresOf(input)).toEqual([
			{ check: "gap", seq: 0 },
			{ check: "delivery-gap", seq: 1 },
		]);
		bob.maxAwayMs = WINDOW_MS + 1;
		expect(failuresOf(input)).toEqual([]);
	});

	it("an incarnation that joins again must continue where the last one stopped", () => {
		const { input, bob } = cleanRun();
		bob.left = true;
		bob.deliveries.pop();
		const again = newRecord({ label: "bob.1", slot: "bob", sub: "bob", room: ROOM, kind: "sdk", readOnly: true, startAfter: 1 });
		again.deliveries.push({ seq: 2, id: "a.2", from: "alice" }, { seq: 3, id: "a.3", from: "alice" });
		input.records.push(again);
		const active = new Set(["alice", "bob.1"]);
		expect(failuresOf({ ...input, activeAtEnd: active })).toEqual([{ check: "rejoin", seq: 2 }]);
		again.startAfter = 2;
		again.deliveries.shift();
		expect(failuresOf({ ...input, activeAtEnd: active })).toEqual([]);
	});

	it("presence at rest other than the connected subs; gateways or the anchor disagreeing on the home or the head", () => {
		const presence = cleanRun();
		presence.rest.presence = ["alice", "bob", "ghost"];
		expect(failuresOf(presence.input)).toEqual([{ check: "presence" }]);

		const homes = cleanRun();
		homes.rest.homes.apac = "apac";
		expect(failuresOf(homes.input)).toEqual([{ check: "home" }]);

		const stale = cleanRun();
		stale.rest.heads.weur = 2;
		expect(failuresOf(stale.input)).toEqual([{ check: "stale", seq: 3 }]);

		const anchor = cleanRun();
		anchor.rest.migrateToHomeStatus = 200;
		expect(failuresOf(anchor.input)).toEqual([{ check: "home" }]);
	});

	it("a raw peer's own violations fail the run", () => {
		const { input, bob } = cleanRun();
		bob.violations.push("#3: replayed 2, expected 3");
		expect(failuresOf(input)).toEqual([{ check: "client" }]);
	});
});

describe("chaos secret scanner", () => {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl";

	it("finds a known token split across output chunks, names its owner and redacts it", () => {
		const s = new SecretScanner({ "the admin token": "admin-123" });
		s.addToken(jwt, "alice");
		s.feed("rooms", `{"event":"connect","url":"/ws?token=${jwt.slice(0, 10)}`);
		s.feed("rooms", `${jwt.slice(10)}"}\nclean line\n`);
		s.flush();
		expect(s.leaks).toHaveLength(1);
		expect(s.leaks[0]?.what).toBe("token of alice");
		expect(s.leaks[0]?.excerpt).not.toContain(jwt);
		expect(s.lines).toBe(2);
	});

	it("flags any eyJ run and named secrets, and passes clean output", () => {
		const s = new SecretScanner({ "the admin token": "admin-123" });
		s.feed("gateway wnam", "GET /v1/rooms/x 200 OK\n");
		expect(s.leakCount).toBe(0);
		s.feed("gateway wnam", "resume=eyJyIjoieCJ9.sig\nAuthorization: Bearer admin-123\n");
		expect(s.leaks.map((l) => l.what)).toEqual(['"eyJ" prefix', "the admin token"]);
		expect(s.leaks[1]?.excerpt).toBe("Authorization: Bearer <the admin token>");
	});
});

describe("chaos fault deck", () => {
	it("deals every scheduled kind in each block, in the block's proportions, and skips what is not feasible", () => {
		const deck = new FaultDeck(mulberry32(7));
		const size = Object.values(FAULT_BLOCK).reduce((a, b) => a + b, 0);
		const dealt = Array.from({ length: size }, () => deck.next(() => true));
		const counts: Record<string, number> = {};
		for (const k of dealt) counts[k ?? "null"] = (counts[k ?? "null"] ?? 0) + 1;
		expect(counts).toEqual(FAULT_BLOCK);
		expect(deck.next((k) => k === "offline")).toBe("offline");
		expect(deck.next(() => false)).toBeNull();
	});
});
