/**
 * The fault schedule: an endless deck of seeded, shuffled blocks, each holding every scheduled
 * kind in fixed proportions — so a short run still sees every kind, and a long one the same mix.
 * A kind that cannot be injected right now (a gateway is already down, nobody left to take
 * offline) is skipped for the next one that can and comes up again soon after.
 */
import type { Random } from "./prng.ts";

export const FaultKind = {
	/** SIGKILL of the process hosting every Durable Object; restarted on the same storage. */
	KillRooms: "kill-rooms",
	/** A migration crashed by SIGKILL of the room host, mostly between copy and flip. */
	CrashMigration: "crash-migration",
	/** `POST /v1/admin/rooms/:room/migrate` to another region. */
	Migrate: "migrate",
	/** `POST /v1/admin/rooms/:room/drain`. */
	Drain: "drain",
	/** `POST /v1/admin/drain-all`. */
	DrainAll: "drain-all",
	/** SIGKILL of one regional gateway, restarted a few seconds later. */
	KillGateway: "kill-gateway",
	/** One SDK client's network goes dark for longer than the heartbeat timeout. */
	Offline: "offline",
	/** A short-lived token expired: refreshed in band, or closed 4001 and fetched again. */
	Token: "token",
} as const;
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];
/** Kinds the loop injects; token expiries happen on their own (short-lived tokens). */
export type ScheduledKind = Exclude<FaultKind, typeof FaultKind.Token>;

/** One block of the deck. */
export const FAULT_BLOCK: Readonly<Record<ScheduledKind, number>> = {
	"kill-rooms": 6,
	"crash-migration": 1,
	migrate: 2,
	drain: 5,
	"drain-all": 2,
	"kill-gateway": 2,
	offline: 3,
};
const BLOCK_SIZE = Object.values(FAULT_BLOCK).reduce((a, b) => a + b, 0);

export class FaultDeck {
	private readonly queue: ScheduledKind[] = [];

	constructor(private readonly random: Random) {}

	/** The next kind `feasible` allows, looking at most two blocks ahead; null if none is. */
	next(feasible: (kind: ScheduledKind) => boolean): ScheduledKind | null {
		while (this.queue.length < 2 * BLOCK_SIZE) this.queue.push(...this.block());
		const i = this.queue.findIndex(feasible);
		if (i === -1) return null;
		return this.queue.splice(i, 1)[0] ?? null;
	}

	/** One block, Fisher–Yates shuffled. */
	private block(): ScheduledKind[] {
		const kinds = (Object.entries(FAULT_BLOCK) as Array<[ScheduledKind, number]>).flatMap(([k, n]) => Array.from({ length: n }, () => k));
		for (let i = kinds.length - 1; i > 0; i--) {
			const j = Math.floor(this.random() * (i + 1));
			[kinds[i], kinds[j]] = [kinds[j] as ScheduledKind, kinds[i] as ScheduledKind];
		}
		return kinds;
	}
}
