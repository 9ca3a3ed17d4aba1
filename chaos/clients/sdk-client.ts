/**
 * A chaos client built on the SDK (client/index.ts) as an app would use it: `endpoints` = every
 * regional gateway (it fails over), a token function, delivery through `message` events. Its
 * `WebSocket` is the client's {@link Network}, so an offline fault is a real black hole.
 */
import { connect, type Room } from "../../client/index.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import type { Random } from "../prng.ts";
import type { ChaosClient } from "./client.ts";
import { Network, type WireObserver } from "./network.ts";
import { Publisher } from "./publisher.ts";
import { type ClientRecord, countClose, newRecord } from "./records.ts";

/** SDK backoff for the run: faults come every second or two, so a 10 s cap would dominate recovery. */
const BACKOFF = { base: 100, cap: 2_000 };
const CONNECT_TIMEOUT_MS = 5_000;

export interface SdkClientOptions {
	label: string;
	slot: string;
	sub: string;
	room: string;
	readOnly: boolean;
	endpoints: readonly string[];
	/** Delivery starts after this seq (0 = the whole history). */
	after: number;
	token: () => Promise<string>;
	random: Random;
	meanGapMs: number;
	/** Wire observations and token events, for the run's statistics and the fault log. */
	events: WireObserver & {
		tokenExpired(client: SdkClient, via: "in-band" | "4001"): void;
		resumeToken(token: string): void;
	};
}

export class SdkClient implements ChaosClient {
	readonly record: ClientRecord;
	readonly net: Network;
	private readonly room: Room;
	private readonly publisher: Publisher;
	private welcomeAt = 0;
	private awaySince: number | null = null;
	private leaving = false;

	constructor(opts: SdkClientOptions) {
		this.record = newRecord({
			label: opts.label,
			slot: opts.slot,
			sub: opts.sub,
			room: opts.room,
			kind: "sdk",
			readOnly: opts.readOnly,
			startAfter: opts.after,
		});
		const events = opts.events;
		this.net = new Network({
			authSent: () => {
				events.authSent();
				events.tokenExpired(this, "in-band");
			},
			authOk: () => events.authOk(),
		});
		this.room = connect({
			endpoints: opts.endpoints,
			room: opts.room,
			token: opts.token,
			WebSocket: this.net.WebSocket,
			after: opts.after,
			backoff: BACKOFF,
			connectTimeout: CONNECT_TIMEOUT_MS,
		});
		this.room.on("welcome", (w) => {
			this.record.welcomes += 1;
			this.welcomeAt = Date.now();
			if (this.awaySince !== null) this.record.maxAwayMs = Math.max(this.record.maxAwayMs, this.welcomeAt - this.awaySince);
			this.awaySince = null;
			events.resumeToken(w.resume);
		});
		this.room.on("message", (m) => {
			this.record.deliveries.push({ seq: m.seq, id: m.id, from: m.from });
		});
		this.room.on("gap", (g) => {
			this.record.gaps.push({ after: g.after, next: g.next });
		});
		this.room.on("close", (c) => {
			// A close the SDK made itself says why in its reason (e.g. 1000 "sequence_gap"); the server's are JSON or empty.
			countClose(this.record, /^[a-z_]+$/.test(c.reason) ? `${c.code} ${c.reason}` : String(c.code));
			this.awaySince ??= Date.now();
			if (c.code === CloseCode.Unauthorized) events.tokenExpired(this, "4001");
			if (!c.willReconnect && !this.leaving) this.record.violations.push(`the SDK stopped on close ${c.code} ${c.reason}`);
		});
		this.publisher = new Publisher(this.record, (id, data) => this.room.publish(data, { id }), opts.random, opts.meanGapMs);
		this.publisher.start();
	}

	active(): boolean {
		return !this.record.left && this.room.state !== "closed";
	}

	isOpen(): boolean {
		return this.room.state === "open";
	}

	offline(): boolean {
		return this.net.offline;
	}

	lastWelcomeAt(): number {
		return this.welcomeAt;
	}

	lastSeq(): number {
		return this.room.lastSeq;
	}

	gatewayBase(): string | null {
		return this.net.lastDialed;
	}

	stopPublishing(): void {
		this.publisher.stop();
	}

	/** Leaves the room (1000); publishes still pending reject with `closed`. */
	leave(): void {
		this.leaving = true;
		this.record.left = true;
		this.publisher.stop();
		this.room.close();
	}

	async shutdown(): Promise<void> {
		this.leaving = true;
		this.publisher.stop();
		this.room.close();
		this.net.terminateAll();
	}
}
