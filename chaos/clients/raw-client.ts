/**
 * A chaos client that speaks the wire protocol by hand (test/e2e/harness/resuming-peer.ts): one
 * fixed gateway, `?resume=&after=` on every reconnect, publishes re-sent with their ids after
 * every welcome, its own checks of what the server promises. It pings like the SDK, so a
 * read-only peer is not taken for dead.
 */
import { ResumingPeer } from "../../test/e2e/harness/resuming-peer.ts";
import type { Random } from "../prng.ts";
import type { ChaosClient } from "./client.ts";
import { Publisher } from "./publisher.ts";
import { type ClientRecord, newRecord } from "./records.ts";

const BACKOFF = { minMs: 100, maxMs: 2_000 };
/** Longer than any outage the run makes (a gateway down plus a room host restart, on a slow machine). */
const RECONNECT_DEADLINE_MS = 180_000;
const FIRST_WELCOME_TIMEOUT_MS = 60_000;

export interface RawClientOptions {
	label: string;
	sub: string;
	room: string;
	readOnly: boolean;
	baseWsUrl: string;
	token: string;
	random: Random;
	meanGapMs: number;
	pingEveryMs: number;
}

export class RawClient implements ChaosClient {
	readonly record: ClientRecord;
	readonly peer: ResumingPeer;
	private readonly publisher: Publisher;
	private readonly baseWsUrl: string;

	private constructor(opts: RawClientOptions) {
		this.baseWsUrl = opts.baseWsUrl;
		this.record = newRecord({ label: opts.label, slot: opts.label, sub: opts.sub, room: opts.room, kind: "raw", readOnly: opts.readOnly, startAfter: 0 });
		this.peer = new ResumingPeer({
			baseWsUrl: opts.baseWsUrl,
			room: opts.room,
			token: opts.token,
			label: opts.label,
			random: opts.random,
			backoff: BACKOFF,
			reconnectDeadlineMs: RECONNECT_DEADLINE_MS,
			pingEveryMs: opts.pingEveryMs,
		});
		this.publisher = new Publisher(this.record, (id, data) => this.peer.publish(id, data), opts.random, opts.meanGapMs);
	}

	/** Connects (first welcome) and starts publishing. */
	static async start(opts: RawClientOptions): Promise<RawClient> {
		const client = new RawClient(opts);
		await client.peer.reconnect(FIRST_WELCOME_TIMEOUT_MS);
		client.publisher.start();
		return client;
	}

	active(): boolean {
		return this.peer.status !== "stopped";
	}

	isOpen(): boolean {
		return this.peer.status === "open";
	}

	offline(): boolean {
		return false;
	}

	lastWelcomeAt(): number {
		for (let i = this.peer.connections.length - 1; i >= 0; i--) {
			const at = this.peer.connections[i]?.welcomeAt;
			if (at !== undefined) return at;
		}
		return 0;
	}

	lastSeq(): number {
		return this.peer.lastSeq;
	}

	gatewayBase(): string | null {
		return this.baseWsUrl;
	}

	stopPublishing(): void {
		this.publisher.stop();
	}

	/** Fills the record from what the peer saw (deliveries, gaps, closes, its own violations). */
	finalize(): ClientRecord {
		const r = this.record;
		r.deliveries = this.peer.delivered.map((m) => ({ seq: m.seq, id: m.id, from: m.from }));
		r.gaps = this.peer.gaps.map((g) => ({ after: g.after, next: g.first }));
		r.welcomes = this.peer.welcomes.length;
		r.closes = {};
		let maxAway = 0;
		for (const [i, c] of this.peer.connections.entries()) {
			if (c.close !== undefined) r.closes[c.close.code] = (r.closes[c.close.code] ?? 0) + 1;
			const nextWelcome = this.peer.connections.slice(i + 1).find((n) => n.welcomeAt !== undefined)?.welcomeAt;
			if (c.close !== undefined && nextWelcome !== undefined) maxAway = Math.max(maxAway, nextWelcome - c.close.at);
		}
		r.maxAwayMs = maxAway;
		r.violations = [...this.peer.violations];
		if (this.peer.stoppedBy !== null && this.peer.stoppedBy !== "stop()") r.violations.push(`stopped: ${this.peer.stoppedBy}`);
		return r;
	}

	async shutdown(): Promise<void> {
		this.publisher.stop();
		await this.peer.stop();
	}
}
