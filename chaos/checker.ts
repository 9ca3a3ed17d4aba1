/**
 * The audit at quiescence (CONTRACT.md §7, §10). Judges what the clients saw against what the
 * server kept, and cannot be satisfied by either side alone:
 *
 * - each room's history is exactly seqs 1..head, every id once, every message one of ours, from
 *   the sub that published it;
 * - every acked publish is in that history exactly once, at the seq it was acked with;
 * - every publish promise settled (acked, or rejected only because its client left);
 * - every incarnation delivered a contiguous run from where it started, once each and in order,
 *   matching the history message for message, to the head if it is still connected — a `gap` is
 *   allowed only to a client that was away longer than the resume window or when the history was
 *   trimmed; an incarnation that joined again continues exactly where the last one stopped;
 * - presence at rest is the set of connected subs; every gateway names the same home and head,
 *   and the anchor agrees on that home.
 *
 * (That no process printed a token is judged by the run from scanner.ts, after every process stopped.)
 * Every failure names the first divergent seq where there is one.
 */
import type { MessageFrame } from "../protocol/messages.ts";
import type { ClientRecord, PublishRecord } from "./clients/records.ts";

export interface Failure {
	check: string;
	room?: string;
	client?: string;
	/** The first seq where what was seen diverges from what should be. */
	seq?: number;
	message: string;
}

export interface RoomAtRest {
	history: MessageFrame[];
	head: number;
	oldest: number | null;
	/** Presence as `GET /v1/rooms/:room` answered at rest, and the subs connected then. */
	presence: string[];
	expectedPresence: string[];
	/** The home and head each gateway named (a stale copy would show an older head). */
	homes: Record<string, string>;
	heads: Record<string, number>;
	/** Status of a migration to the named home (409 already_there when the anchor agrees). */
	migrateToHomeStatus: number;
}

export interface CheckInput {
	rooms: Map<string, RoomAtRest>;
	/** Every incarnation, in creation order. */
	records: ClientRecord[];
	/** Labels of incarnations still connected at the end. */
	activeAtEnd: ReadonlySet<string>;
	resumeWindowMs: number;
}

export interface CheckTotals {
	publishes: number;
	acked: number;
	rejected: number;
	unsettled: number;
	deliveries: number;
	lost: number;
	duplicated: number;
	outOfOrder: number;
	gaps: number;
	reconnects: number;
}

export interface CheckResult {
	failures: Failure[];
	totals: CheckTotals;
}

export function check(input: CheckInput): CheckResult {
	const failures: Failure[] = [];
	const totals: CheckTotals = {
		publishes: 0,
		acked: 0,
		rejected: 0,
		unsettled: 0,
		deliveries: 0,
		lost: 0,
		duplicated: 0,
		outOfOrder: 0,
		gaps: 0,
		reconnects: 0,
	};
	const publishes = new Map<string, PublishRecord>();
	for (const r of input.records) for (const p of r.publishes) publishes.set(p.id, p);

	const stored = new Map<string, Map<string, number>>();
	for (const [room, rest] of input.rooms) stored.set(room, checkHistory(room, rest, publishes, failures));
	checkPublishes(input, publishes, stored, failures, totals);
	checkDeliveries(input, failures, totals);
	for (const [room, rest] of input.rooms) checkRest(room, rest, failures);
	return { failures, totals };
}

/** Seqs 1..head, ids once, every message one of ours; returns id → seq. */
function checkHistory(room: string, rest: RoomAtRest, publishes: Map<string, PublishRecord>, failures: Failure[]): Map<string, number> {
	const ids = new Map<string, number>();
	if (rest.history.length !== rest.head) failures.push({ check: "history", room, message: `${rest.history.length} messages kept for head ${rest.head}` });
	for (const [i, m] of rest.history.entries()) {
		if (m.seq !== i + 1) {
			failures.push({ check: "history", room, seq: i + 1, message: `position ${i + 1} holds seq ${m.seq}` });
			break;
		}
	}
	for (const m of rest.history) {
		const first = ids.get(m.id);
		if (first !== undefined) failures.push({ check: "history-duplicate", room, seq: m.seq, message: `id ${m.id} stored at ${first} and ${m.seq}` });
		else ids.set(m.id, m.seq);
		const p = publishes.get(m.id);
		if (p === undefined) failures.push({ check: "history-phantom", room, seq: m.seq, message: `id ${m.id} was never published` });
		else if (p.sub !== m.from || p.room !== room)
			failures.push({ check: "history-from", room, seq: m.seq, message: `id ${m.id} from ${m.from} in ${room}, published by ${p.sub} in ${p.room}` });
	}
	return ids;
}

function checkPublishes(
	input: CheckInput,
	publishes: Map<string, PublishRecord>,
	stored: Map<string, Map<string, number>>,
	failures: Failure[],
	totals: CheckTotals,
): void {
	const leftClients = new Set(input.records.filter((r) => r.left).map((r) => r.label));
	for (const p of publishes.values()) {
		totals.publishes += 1;
		const at = stored.get(p.room)?.get(p.id);
		if (p.settled !== 1) {
			totals.unsettled += 1;
			failures.push({ check: "publish-settled", room: p.room, client: p.client, message: `publish ${p.id} settled ${p.settled} times` });
			continue;
		}
		if (p.outcome === "rejected") {
			totals.rejected += 1;
			if (!leftClients.has(p.client))
				failures.push({ check: "publish-rejected", room: p.room, client: p.client, message: `publish ${p.id} rejected: ${p.error}` });
			continue;
		}
		totals.acked += 1;
		if (at === undefined) {
			totals.lost += 1;
			failures.push({ check: "acked-lost", room: p.room, client: p.client, seq: p.seq, message: `publish ${p.id} acked as seq ${p.seq}, not in the history` });
		} else if (at !== p.seq) {
			failures.push({
				check: "acked-seq",
				room: p.room,
				client: p.client,
				seq: Math.min(at, p.seq ?? at),
				message: `publish ${p.id} acked as seq ${p.seq}, stored at ${at}`,
			});
		}
	}
}

function checkDeliveries(input: CheckInput, failures: Failure[], totals: CheckTotals): void {
	const lastOfSlot = new Map<string, { label: string; last: number }>();
	for (const r of input.records) {
		const rest = input.rooms.get(r.room);
		if (rest === undefined) continue;
		totals.deliveries += r.deliveries.length;
		totals.reconnects += Math.max(0, r.welcomes - 1);
		totals.gaps += r.gaps.length;
		for (const v of r.violations) failures.push({ check: "client", room: r.room, client: r.label, message: v });
		const gapAllowed = r.maxAwayMs > input.resumeWindowMs || (rest.oldest ?? 1) > 1;
		if (r.gaps.length > 0 && !gapAllowed) {
			failures.push({
				check: "gap",
				room: r.room,
				client: r.label,
				seq: r.gaps[0]?.after,
				message: `gap events ${JSON.stringify(r.gaps.slice(0, 3))} within the resume window and with the whole history kept`,
			});
		}
		const start = r.startAfter ?? 0;
		const previous = lastOfSlot.get(r.slot);
		if (previous !== undefined && previous.last !== start) {
			failures.push({
				check: "rejoin",
				room: r.room,
				client: r.label,
				seq: Math.min(previous.last, start) + 1,
				message: `joined again after ${start}, the last incarnation ${previous.label} had delivered up to ${previous.last}`,
			});
		}
		let last = start;
		const seen = new Set<number>();
		let firstBad: Failure | null = null;
		const note = (f: Failure) => {
			firstBad ??= f;
		};
		for (const d of r.deliveries) {
			if (seen.has(d.seq)) {
				totals.duplicated += 1;
				note({ check: "delivery-duplicate", room: r.room, client: r.label, seq: d.seq, message: `seq ${d.seq} delivered again` });
				continue;
			}
			seen.add(d.seq);
			if (d.seq < last) {
				totals.outOfOrder += 1;
				note({ check: "delivery-order", room: r.room, client: r.label, seq: d.seq, message: `seq ${d.seq} after ${last}` });
				continue;
			}
			if (d.seq > last + 1) {
				const covered = r.gaps.some((g) => g.after <= last && g.next === d.seq);
				if (!covered || !gapAllowed) {
					totals.lost += d.seq - last - 1;
					note({ check: "delivery-gap", room: r.room, client: r.label, seq: last + 1, message: `seq ${d.seq} after ${last}` });
				}
			}
			const h = rest.history[d.seq - 1];
			if (h === undefined || h.id !== d.id || h.from !== d.from) {
				note({
					check: "delivery-content",
					room: r.room,
					client: r.label,
					seq: d.seq,
					message: `delivered ${d.id} from ${d.from}, history has ${h?.id} from ${h?.from}`,
				});
			}
			last = d.seq;
		}
		if (input.activeAtEnd.has(r.label) && last < rest.head) {
			totals.lost += rest.head - last;
			note({ check: "delivery-behind", room: r.room, client: r.label, seq: last + 1, message: `delivered up to ${last} of head ${rest.head} at rest` });
		}
		if (firstBad !== null) failures.push(firstBad);
		lastOfSlot.set(r.slot, { label: r.label, last });
	}
}

function checkRest(room: string, rest: RoomAtRest, failures: Failure[]): void {
	const want = [...rest.expectedPresence].sort();
	const got = [...rest.presence].sort();
	if (want.join("\n") !== got.join("\n")) {
		failures.push({ check: "presence", room, message: `presence at rest ${JSON.stringify(got)}, connected subs ${JSON.stringify(want)}` });
	}
	const stale = Object.entries(rest.heads).filter(([, seq]) => seq !== rest.head);
	if (stale.length > 0) {
		const seq = Math.min(...stale.map(([, s]) => s)) + 1;
		failures.push({ check: "stale", room, seq, message: `head ${rest.head} in the history, gateways answered ${JSON.stringify(rest.heads)}` });
	}
	const homes = [...new Set(Object.values(rest.homes))];
	if (homes.length !== 1) {
		failures.push({ check: "home", room, message: `gateways name different homes: ${JSON.stringify(rest.homes)}` });
	} else if (rest.migrateToHomeStatus !== 409) {
		failures.push({
			check: "home",
			room,
			message: `the room names home ${homes[0]}, a migration there answered ${rest.migrateToHomeStatus} (not 409 already_there)`,
		});
	}
}
