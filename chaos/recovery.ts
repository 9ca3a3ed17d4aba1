/**
 * The recovery clock: for each fault, the time from the fault until every client it hit has
 * caught up — been connected again (welcomed after the fault, when the fault disconnects it) and
 * delivered every seq its room had reached when the fault struck. Each client's moment is taken
 * when it gets there, so a later fault that knocks it down again does not stretch this one's
 * figure (faults overlap: the next one often comes before everyone is back). Sampled every
 * SAMPLE_MS (the resolution of the figures); a fault whose clients are not all caught up within
 * DEADLINE_MS counts as slow. Clients offline at the fault are left out (their own offline fault
 * times them).
 */
import type { ChaosClient } from "./clients/client.ts";

const SAMPLE_MS = 25;
const DEADLINE_MS = 120_000;

export interface Timed {
	/** ms from the fault to every affected client caught up; null while running or if slow. */
	recoveryMs: number | null;
	slow?: boolean;
}

interface Watch {
	timed: Timed;
	t0: number;
	/** Clients not caught up yet. */
	pending: Set<ChaosClient>;
	targets: Map<string, number>;
	needWelcome: boolean;
	armed: boolean;
	self: ChaosClient | null;
}

export class RecoveryClock {
	private watches: Watch[] = [];
	private readonly timer: NodeJS.Timeout;
	readonly samples: number[] = [];
	slow = 0;

	constructor(private readonly headOf: (room: string) => number) {
		this.timer = setInterval(() => this.sample(), SAMPLE_MS);
	}

	/**
	 * Starts timing `timed` from now (the fault's moment) over `clients`. `needWelcome`: each must
	 * reconnect after now. `self`: the one client an offline fault is about (timed even though it is
	 * offline). Returns `arm`, to call once the injection is done (a room host restart, the end of an
	 * offline spell): only then can "caught up" be told from "not hit yet"; or `cancel`, when the
	 * fault did not happen after all (a refused migration).
	 */
	start(
		timed: Timed,
		clients: readonly ChaosClient[],
		opts: { needWelcome: boolean; self?: ChaosClient; t0?: number },
	): { arm: () => void; cancel: () => void } {
		const t0 = opts.t0 ?? Date.now();
		const hit = clients.filter((c) => c.active() && (c === opts.self || !c.offline()));
		const targets = new Map<string, number>();
		for (const c of hit) if (!targets.has(c.record.room)) targets.set(c.record.room, this.headOf(c.record.room));
		const watch: Watch = { timed, t0, pending: new Set(hit), targets, needWelcome: opts.needWelcome, armed: false, self: opts.self ?? null };
		this.watches.push(watch);
		return {
			arm: () => {
				watch.armed = true;
			},
			cancel: () => {
				this.watches = this.watches.filter((w) => w !== watch);
			},
		};
	}

	get open(): number {
		return this.watches.length;
	}

	stop(): void {
		clearInterval(this.timer);
		for (const w of this.watches) w.timed.slow = true;
		this.slow += this.watches.length;
		this.watches = [];
	}

	private sample(): void {
		if (this.watches.length === 0) return;
		const now = Date.now();
		this.watches = this.watches.filter((w) => {
			if (!w.armed) return true;
			for (const c of w.pending) if (this.caughtUp(w, c)) w.pending.delete(c);
			if (w.pending.size === 0) {
				w.timed.recoveryMs = now - w.t0;
				this.samples.push(now - w.t0);
				return false;
			}
			if (now - w.t0 > DEADLINE_MS) {
				w.timed.slow = true;
				this.slow += 1;
				return false;
			}
			return true;
		});
	}

	private caughtUp(w: Watch, c: ChaosClient): boolean {
		if (!c.active() || (c !== w.self && c.offline())) return true;
		if (!c.isOpen()) return false;
		if (w.needWelcome && c.lastWelcomeAt() < w.t0) return false;
		return c.lastSeq() >= (w.targets.get(c.record.room) ?? 0);
	}
}
