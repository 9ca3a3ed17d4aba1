/**
 * The clients of a run: a seeded mix of SDK slots (most; some with short-lived tokens, some
 * read-only, some leaving and joining again) and raw resuming peers, spread over the rooms, plus
 * the token minting (every token also goes to the log scanner).
 */

import { mintToken } from "../test/e2e/harness/client.ts";
import { CLUSTER_REGIONS, type RegionCluster } from "../test/e2e/harness/cluster.ts";
import type { ChaosClient } from "./clients/client.ts";
import { RawClient } from "./clients/raw-client.ts";
import { SdkClient, type SdkClientOptions } from "./clients/sdk-client.ts";
import { HEARTBEAT_INTERVAL_MS, MIX } from "./options.ts";
import { chance, int, pick, type Random, stream } from "./prng.ts";
import type { SecretScanner } from "./scanner.ts";
import { until } from "./wait.ts";

/** TTL of every token that is not meant to expire during the run. */
const LONG_TTL_SECONDS = 4 * 3600;

interface SdkSlot {
	label: string;
	sub: string;
	room: string;
	readOnly: boolean;
	rotating: boolean;
	endpoints: string[];
	meanGapMs: number;
	ttl: Random;
	incarnations: number;
	current: SdkClient | null;
}

export type TokenEvents = SdkClientOptions["events"];

export class Population {
	/** Every incarnation ever created, in creation order. */
	readonly all: ChaosClient[] = [];
	private readonly slots: SdkSlot[] = [];
	/** Set at quiescence: from then on every token is long-lived. */
	longTokens = false;
	rawCount = 0;
	readOnlyCount = 0;
	/** Calls of the short-lived clients' token functions (first tokens included). */
	shortTokensFetched = 0;

	private constructor(
		private readonly seed: number,
		private readonly scanner: SecretScanner,
		private readonly events: TokenEvents,
	) {}

	/** Creates every client and waits for each one's first welcome. */
	static async start(opts: {
		seed: number;
		cluster: RegionCluster;
		rooms: readonly string[];
		clients: number;
		scanner: SecretScanner;
		events: TokenEvents;
	}): Promise<Population> {
		const pop = new Population(opts.seed, opts.scanner, opts.events);
		const r = stream(opts.seed, "mix");
		const n = opts.clients;
		const rawCount = Math.max(1, Math.round(n * MIX.rawShare));
		// The last `rawCount` indices are raw; the first client of each room always publishes.
		const raws: Array<Promise<RawClient>> = [];
		const sdkIndices: number[] = [];
		for (let i = 0; i < n; i++) {
			const room = opts.rooms[i % opts.rooms.length] as string;
			const readOnly = i >= opts.rooms.length && chance(r, MIX.readOnlyShare);
			if (readOnly) pop.readOnlyCount++;
			const meanGapMs = int(r, ...MIX.meanGapMs);
			if (i >= n - rawCount) {
				const label = `raw${i}`;
				const region = pick(r, CLUSTER_REGIONS);
				raws.push(
					pop.mint(label, room, label, LONG_TTL_SECONDS).then((token) =>
						RawClient.start({
							label,
							sub: label,
							room,
							readOnly,
							baseWsUrl: opts.cluster.gateway(region).wsUrl,
							token,
							random: stream(opts.seed, `raw-${label}`),
							meanGapMs,
							pingEveryMs: HEARTBEAT_INTERVAL_MS,
						}),
					),
				);
				continue;
			}
			sdkIndices.push(i);
			const rotate = i % CLUSTER_REGIONS.length;
			const order = [...CLUSTER_REGIONS.slice(rotate), ...CLUSTER_REGIONS.slice(0, rotate)];
			pop.slots.push({
				label: `sdk${i}`,
				sub: `sdk${i}`,
				room,
				readOnly,
				rotating: false,
				endpoints: order.map((region) => opts.cluster.gateway(region).url),
				meanGapMs,
				ttl: stream(opts.seed, `ttl-${i}`),
				incarnations: 0,
				current: null,
			});
		}
		const rotating = Math.max(pop.slots.length >= 2 ? 1 : 0, Math.round(pop.slots.length * MIX.rotatingShare));
		for (let k = 0; k < rotating; k++) {
			const slot = pop.slots[(k * 3 + 1) % pop.slots.length];
			if (slot !== undefined) slot.rotating = true;
		}
		const sdks = pop.slots.map((slot) => pop.spawn(slot, 0));
		pop.rawCount = raws.length;
		pop.all.push(...(await Promise.all(raws)));
		return pop.ready(sdks);
	}

	private async ready(sdks: SdkClient[]): Promise<Population> {
		const ok = await until(() => sdks.every((c) => c.isOpen()), 60_000);
		if (!ok) throw new Error(`clients not welcomed within 60 s: ${sdks.filter((c) => !c.isOpen()).map((c) => c.record.label)}`);
		return this;
	}

	get rotatingCount(): number {
		return this.slots.filter((s) => s.rotating).length;
	}

	/** Incarnations that are active now. */
	active(): ChaosClient[] {
		return this.all.filter((c) => c.active());
	}

	sdkActive(): SdkClient[] {
		return this.slots.flatMap((s) => (s.current?.active() ? [s.current] : []));
	}

	/**
	 * One SDK client leaves (1000) and, `rejoinMs` later, its slot joins again as a new incarnation
	 * that asks for everything after the last seq the old one delivered. Resolves once it rejoined.
	 */
	async churn(r: Random): Promise<string | null> {
		const candidates = this.slots.filter((s) => s.current?.isOpen() === true && !s.current.offline());
		if (candidates.length === 0) return null;
		const slot = pick(r, candidates);
		const leaving = slot.current as SdkClient;
		leaving.leave();
		const wait = int(r, ...MIX.rejoinAfterMs);
		await new Promise((res) => setTimeout(res, wait));
		this.spawn(slot, leaving.lastSeq());
		return leaving.record.label;
	}

	async shutdown(): Promise<void> {
		await Promise.all(this.all.map((c) => c.shutdown()));
	}

	private spawn(slot: SdkSlot, after: number): SdkClient {
		const inc = slot.incarnations++;
		const label = inc === 0 ? slot.label : `${slot.label}.${inc}`;
		const client = new SdkClient({
			label,
			slot: slot.label,
			sub: slot.sub,
			room: slot.room,
			readOnly: slot.readOnly,
			endpoints: slot.endpoints,
			after,
			token: () => {
				const short = slot.rotating && !this.longTokens;
				if (short) this.shortTokensFetched++;
				return this.mint(slot.sub, slot.room, label, short ? int(slot.ttl, ...MIX.tokenTtlSeconds) : LONG_TTL_SECONDS);
			},
			random: stream(this.seed, `pub-${label}`),
			meanGapMs: slot.meanGapMs,
			events: this.events,
		});
		slot.current = client;
		this.all.push(client);
		return client;
	}

	private async mint(sub: string, room: string, owner: string, ttl: number): Promise<string> {
		const token = await mintToken(sub, [room], { ttl });
		this.scanner.addToken(token, owner);
		return token;
	}
}
