/** Workload sizes and time bounds for `--quick` and full runs (bench/README.md). */

export type Mode = "quick" | "full";

export interface Sizes {
	mode: Mode;
	/** Workload 1 (+4): sockets opened into one room, handshakes in flight at once. */
	connect: number;
	connectConcurrency: number;
	/** Workload 1: rounds per target (the first on fresh processes, also read for memory); rate and CPU are medians. */
	connectRounds: number;
	/** Workload 4: ms to let the runtime settle before reading RSS; and whether to also read it after hibernation. */
	memorySettleMs: number;
	memoryAfterHibernation: boolean;
	/** Rounds of fan-out and echo per target, interleaved across targets; medians are reported. */
	rounds: number;
	/** Workload 2: subscribers, messages, publisher window (messages in flight). */
	fanoutSubscribers: number;
	fanoutMessages: number;
	fanoutWindow: number;
	/** Workload 3: measured round trips (after a short warm-up). */
	echoRoundTrips: number;
	/** Workload 5a: missed messages per replay, and how many replays. */
	replayMissed: number;
	replayRepeats: number;
	/** Workload 5c: sockets in the heartbeat room. */
	heartbeatSockets: number;
	/** Workload 5d: clients per idle room and observation window. */
	idleClients: number;
	idleWindowMs: number;
	/** Migration: clients in the room that moves, and its log. */
	migrationClients: number;
	migrationLog: number;
	/** Presence at scale: distinct subs connected into one room, and where connect rate and frames per connect are read. */
	presenceSubs: number;
	presenceCheckpoints: readonly number[];
	/** Upper bound for any single workload phase. */
	phaseDeadlineMs: number;
}

export function sizesFor(mode: Mode): Sizes {
	const quick = mode === "quick";
	return {
		mode,
		connect: quick ? 200 : 1000,
		connectConcurrency: 50,
		connectRounds: quick ? 2 : 3,
		memorySettleMs: quick ? 1000 : 2000,
		memoryAfterHibernation: !quick,
		// Fan-out medians: single runs vary by ±10 % here.
		rounds: quick ? 2 : 3,
		fanoutSubscribers: quick ? 100 : 500,
		fanoutMessages: quick ? 200 : 1000,
		fanoutWindow: 8,
		echoRoundTrips: 500,
		replayMissed: 1000,
		replayRepeats: quick ? 3 : 10,
		heartbeatSockets: quick ? 300 : 2000,
		idleClients: 10,
		idleWindowMs: quick ? 30_000 : 90_000,
		migrationClients: quick ? 100 : 500,
		migrationLog: 1000,
		presenceSubs: quick ? 1000 : 5000,
		// The first stage ends at PRESENCE_EVENTS_MAX (100, the default): event mode, joins to everyone
		// (printed for contrast); the bar compares the stages after it, all in count mode.
		presenceCheckpoints: quick ? [100, 200, 1000] : [100, 500, 1000, 2000, 5000],
		phaseDeadlineMs: quick ? 30_000 : 90_000,
	};
}
