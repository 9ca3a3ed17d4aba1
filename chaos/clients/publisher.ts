/**
 * Publishes from one client at a seeded random rate (exponential gaps around a mean), with ids
 * unique across the run, never more than MAX_IN_FLIGHT unsettled at once, at most MAX_PUBLISHES.
 */
import { expWait, type Random } from "../prng.ts";
import { type ClientRecord, trackPublish } from "./records.ts";

const MAX_IN_FLIGHT = 8;
const MAX_PUBLISHES = 50_000;

export type PublishFn = (id: string, data: unknown) => Promise<{ seq: number; dup: boolean }>;

export class Publisher {
	private timer: NodeJS.Timeout | null = null;
	private issued = 0;
	private inFlight = 0;
	private stopped = false;

	constructor(
		private readonly record: ClientRecord,
		private readonly publish: PublishFn,
		private readonly random: Random,
		private readonly meanGapMs: number,
	) {}

	start(): void {
		if (this.record.readOnly) return;
		this.schedule();
	}

	stop(): void {
		this.stopped = true;
		if (this.timer !== null) clearTimeout(this.timer);
		this.timer = null;
	}

	private schedule(): void {
		if (this.stopped || this.issued >= MAX_PUBLISHES) return;
		this.timer = setTimeout(() => this.tick(), expWait(this.random, this.meanGapMs));
	}

	private tick(): void {
		this.timer = null;
		if (this.stopped) return;
		if (this.inFlight < MAX_IN_FLIGHT) {
			const n = this.issued++;
			const id = `${this.record.label}.${n}`;
			const promise = this.publish(id, { c: this.record.label, n });
			this.inFlight++;
			const settle = () => {
				this.inFlight--;
			};
			promise.then(settle, settle);
			trackPublish(this.record, id, promise);
		}
		this.schedule();
	}
}
