/** Flags of `npm run chaos` and the fixed settings of a run. */
import { join } from "node:path";

export interface ChaosOptions {
	/** Seeds the schedule, the client mix and every client's timing. */
	seed: number;
	/** Faults to inject (token expiries included); the loop stops there. */
	faults: number;
	/** Hard bound on the injection phase: at the bound it stops and goes to quiescence. */
	minutes: number;
	rooms: number;
	/** Clients in all (about a quarter raw, the rest SDK). */
	clients: number;
	/** Where the JSON report goes; null for none. */
	resultsDir: string | null;
	/** Progress lines (stderr by default). */
	log: (line: string) => void;
}

export const DEFAULTS: Omit<ChaosOptions, "seed" | "log"> = {
	faults: 60,
	minutes: 10,
	rooms: 3,
	clients: 18,
	resultsDir: join(import.meta.dirname, "results"),
};

/** Server vars of the run: fast heartbeats (the offline fault must outlast the timeout), a short drain window, limits out of the way. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
export const HEARTBEAT_TIMEOUT_MS = 3_000;
export const RESUME_WINDOW_MS = 600_000;
export const SERVER_VARS: Record<string, string> = {
	HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS),
	HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS),
	RESUME_WINDOW_MS: String(RESUME_WINDOW_MS),
	DRAIN_WINDOW_MS: "1500",
	// Every message stays replayable, so any gap is a bug rather than trimming.
	HISTORY_LIMIT: "1000000",
	HISTORY_MAX_BYTES: "1073741824",
	RATE_LIMIT_PER_SEC: "100",
	RATE_LIMIT_BURST: "200",
};
/** Every migration pauses this long between copy and flip, where a crash-migration fault kills the room host. */
export const ROOMS_VARS: Record<string, string> = { BATON_FAULT_PAUSE_BEFORE_FLIP_MS: "1200" };

/** Client mix and timing. */
export const MIX = {
	rawShare: 0.25,
	readOnlyShare: 0.3,
	/** SDK clients whose token function hands out short-lived tokens. */
	rotatingShare: 0.2,
	tokenTtlSeconds: [12, 30] as const,
	/** Mean gap between one client's publishes, drawn per client. */
	meanGapMs: [500, 4_000] as const,
	/** Pause between two faults. */
	faultGapMs: [50, 600] as const,
	offlineMs: [HEARTBEAT_TIMEOUT_MS + 1_000, HEARTBEAT_TIMEOUT_MS + 3_000] as const,
	gatewayDownMs: [1_000, 4_000] as const,
	/** After a fault, the chance that one SDK client leaves (and joins again a little later). */
	churnChance: 0.15,
	rejoinAfterMs: [500, 4_000] as const,
} as const;

const USAGE = "usage: npm run chaos -- [--faults N] [--seed S] [--minutes M] [--rooms R] [--clients C] [--no-results]";

/** Parses `--flag value` pairs; throws with the usage on anything else. */
export function parseArgs(argv: readonly string[], log: (line: string) => void): ChaosOptions {
	const opts: ChaosOptions = { ...DEFAULTS, seed: Math.floor(Math.random() * 2 ** 31), log };
	for (let i = 0; i < argv.length; i++) {
		const flag = argv[i];
		if (flag === "--no-results") {
			opts.resultsDir = null;
			continue;
		}
		const value = Number(argv[i + 1]);
		i++;
		const positive = Number.isFinite(value) && value > 0;
		switch (flag) {
			case "--faults":
			case "--rooms":
			case "--clients":
			case "--seed":
				if (!Number.isSafeInteger(value) || value < (flag === "--seed" ? 0 : 1)) throw new Error(`${flag} needs a positive integer\n${USAGE}`);
				opts[flag.slice(2) as "faults" | "rooms" | "clients" | "seed"] = value;
				break;
			case "--minutes":
				if (!positive) throw new Error(`--minutes needs a positive number\n${USAGE}`);
				opts.minutes = value;
				break;
			default:
				throw new Error(`unknown flag ${flag}\n${USAGE}`);
		}
	}
	if (opts.clients < opts.rooms * 2) throw new Error(`--clients must be at least 2 per room\n${USAGE}`);
	return opts;
}
