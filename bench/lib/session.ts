/**
 * One bench run's shared state: sizes, the results document being filled, the targets, and
 * `attempt`, which runs a workload, logs its duration and turns a failure into a recorded error
 * (one failing workload never stops the others).
 */
import type { BenchResults, TargetResults } from "./report.ts";
import type { Sizes } from "./sizes.ts";
import type { Target, TargetName } from "./targets.ts";

export const log = (text: string): void => {
	process.stdout.write(`${text}\n`);
};

export interface Targets {
	/** The project's config, served as-is: every comparative workload. */
	baton: Target;
	/** Short heartbeat: the heartbeat and idle-room workloads (its inspector stays attached: the heartbeat is profiled). */
	batonHb: Target;
	bare: Target;
	/**
	 * A second, fresh bare process for the idle-memory diagnostic: the `welcome` variant, the floor
	 * plus one welcome-sized first frame per connection (idle memory is only comparable on a process
	 * as fresh as baton's); stopped after it.
	 */
	bareWelcome: Target;
	/** baton with LOG_LEVEL=warn (no log line per connect): the connect's cost without its log line (a diagnostic). */
	/** A third fresh bare process, `count` variant: the first frame plus count-mode traffic (§12), for its idle memory; stopped after it. */
	bareCount: Target;
	batonQuiet: Target;
	/** baton whose clients send no `read` frames (send budgets raised): the fan-out without §13's reads (a diagnostic). */
	batonNoReads: Target;
	partyserver: Target;
	/** baton and the persisting floor (bare `persist` variant) with their state on disk: the fan-out on disk. */
	batonDisk: Target;
	bareDisk: Target;
}

/** The order of targets within a phase (rotated per round where there are rounds). */
export const ORDER: readonly TargetName[] = ["bare", "partyserver", "baton"];

export class Session {
	constructor(
		readonly sizes: Sizes,
		readonly runId: string,
		readonly results: BenchResults,
		readonly targets: Targets,
	) {}

	/** The comparable target named `name`. */
	target(name: TargetName): Target {
		return this.targets[name];
	}

	/** The results of one comparable target, created on first use. */
	of(name: TargetName): TargetResults {
		const existing = this.results.targets[name];
		if (existing !== undefined) return existing;
		const created: TargetResults = {};
		this.results.targets[name] = created;
		return created;
	}

	/** A room name unique to this run. */
	room(kind: string): string {
		return `${kind}-${this.runId}`;
	}

	attempt<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
		return attempt(this.results.meta.errors, what, fn);
	}
}

/** Runs `fn`, logging its duration; a failure is logged and pushed to `errors` instead of thrown. */
export async function attempt<T>(errors: string[], what: string, fn: () => Promise<T>): Promise<T | undefined> {
	const t0 = Date.now();
	try {
		const value = await fn();
		log(`  ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
		return value;
	} catch (err) {
		const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
		errors.push(message);
		log(`  ${message}`);
		return undefined;
	}
}
