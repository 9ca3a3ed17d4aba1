/**
 * What the chaos run records about each client, the same for SDK and raw clients, so the
 * checker judges both by one rule. A client is one connection object from `connect()` (or one
 * raw peer) — an *incarnation*: a client that leaves and joins again is a new incarnation of
 * the same slot (same `sub`), resuming delivery with `after` = where the last one stopped.
 */

/** One `publish()` and how its promise settled. */
export interface PublishRecord {
	id: string;
	sub: string;
	room: string;
	/** Label of the incarnation that published it. */
	client: string;
	issuedAt: number;
	/** Times the promise settled (resolve or reject): exactly 1 at the end, or the run failed. */
	settled: number;
	outcome: "pending" | "acked" | "rejected";
	seq?: number;
	dup?: boolean;
	error?: string;
}

/** One delivered `message`, as the app saw it. */
export interface Delivery {
	seq: number;
	id: string;
	from: string;
}

export type ClientKind = "sdk" | "raw";

/** Everything the checker needs about one incarnation. */
export interface ClientRecord {
	label: string;
	/** The slot this incarnation belongs to (its label without the incarnation suffix). */
	slot: string;
	sub: string;
	room: string;
	kind: ClientKind;
	readOnly: boolean;
	/** Delivery starts after this seq (the `after` it connected with, or the first welcome's head). */
	startAfter: number | null;
	deliveries: Delivery[];
	/** `gap` events (SDK) or gap replays (raw): parts of the history the server no longer kept. */
	gaps: Array<{ after: number; next: number }>;
	publishes: PublishRecord[];
	/** The run closed it on purpose before the end (churn). */
	left: boolean;
	welcomes: number;
	closes: Record<string, number>;
	/** Breaches a raw peer saw itself, and SDK closes nobody asked for. */
	violations: string[];
	/** Longest time it was away (offline or disconnected), for the resume-window rule. */
	maxAwayMs: number;
}

/** A fresh record. */
export function newRecord(fields: Pick<ClientRecord, "label" | "slot" | "sub" | "room" | "kind" | "readOnly" | "startAfter">): ClientRecord {
	return { ...fields, deliveries: [], gaps: [], publishes: [], left: false, welcomes: 0, closes: {}, violations: [], maxAwayMs: 0 };
}

/** Records a publish and how its promise settles; the promise itself never rejects unhandled. */
export function trackPublish<T extends { seq: number; dup: boolean }>(record: ClientRecord, id: string, promise: Promise<T>): PublishRecord {
	const p: PublishRecord = { id, sub: record.sub, room: record.room, client: record.label, issuedAt: Date.now(), settled: 0, outcome: "pending" };
	record.publishes.push(p);
	promise.then(
		(ack) => {
			p.settled += 1;
			p.outcome = "acked";
			p.seq = ack.seq;
			p.dup = ack.dup;
		},
		(err: unknown) => {
			p.settled += 1;
			p.outcome = "rejected";
			p.error = err instanceof Error ? err.message : String(err);
		},
	);
	return p;
}

/** Counts a close, keyed by its code (and the SDK's own cause for a local one). */
export function countClose(record: ClientRecord, code: string): void {
	record.closes[code] = (record.closes[code] ?? 0) + 1;
}
