/**
 * Workload 1 (connect) and 4 (idle memory): N sockets into one room, opened in two halves.
 * Handshake time is to `welcome` for baton (its first frame: auth, session and replay decided) and
 * to `open` for the others (to the welcome-like first frame for bare's `presence` variant). Memory is the user Worker's workerd RSS growth over the second half,
 * per socket: the first half absorbs the one-off growth of a fresh process (heap, allocator
 * arenas, code), which would otherwise be charged to the connections.
 */
import { type BenchSocket, closeAll, type OpenManyResult, openMany, openSocket, pause } from "../lib/load.ts";
import type { Sizes } from "../lib/sizes.ts";
import { median, perSecond, round, type Summary, summarize } from "../lib/stats.ts";
import type { BareVariant, Target } from "../lib/targets.ts";

export interface ConnectResult {
	requested: number;
	opened: number;
	/** Distinct `sub`s among the sockets (baton broadcasts presence per sub). */
	subs: number;
	failures: number;
	failureSamples: string[];
	timedOut: boolean;
	/** Time spent opening (both halves, pauses excluded). */
	elapsedMs: number;
	connectionsPerSec: number;
	handshakeMs: Summary;
	/** CPU of the target's workerd per connection, ms. */
	workerdCpuMsPerConnection: number;
	/** With several rounds (combineConnect): each round's figures, the first on a fresh process; the headline figures are their medians. */
	rounds?: Array<{ connectionsPerSec: number; workerdCpuMsPerConnection: number; handshakeP50: number }>;
}

/**
 * Several connect rounds of one target (each into a room of its own) as one result: rate, CPU
 * and handshake times are medians over the rounds (single runs vary by ±10 % here); counts are
 * the first round's.
 */
export function combineConnect(rounds: readonly ConnectResult[]): ConnectResult {
	const first = rounds[0];
	if (first === undefined) throw new Error("no connect rounds");
	const m = (f: (r: ConnectResult) => number) => median(rounds.map(f));
	return {
		...first,
		failures: rounds.reduce((a, r) => a + r.failures, 0),
		timedOut: rounds.some((r) => r.timedOut),
		connectionsPerSec: m((r) => r.connectionsPerSec),
		handshakeMs: { ...first.handshakeMs, p50: m((r) => r.handshakeMs.p50), p90: m((r) => r.handshakeMs.p90), p99: m((r) => r.handshakeMs.p99) },
		workerdCpuMsPerConnection: m((r) => r.workerdCpuMsPerConnection),
		rounds: rounds.map((r) => ({
			connectionsPerSec: r.connectionsPerSec,
			workerdCpuMsPerConnection: r.workerdCpuMsPerConnection,
			handshakeP50: r.handshakeMs.p50,
		})),
	};
}

export interface MemoryResult {
	/** Sockets open at the first and second reading. */
	socketsAtFirst: number;
	socketsAtSecond: number;
	rssFirstKiB: number;
	rssSecondKiB: number;
	/** (second − first) / (sockets added in between), bytes. */
	bytesPerConnection: number;
	/** Read again after the room hibernated (full runs): (hibernated − first) / added. */
	rssHibernatedKiB?: number;
	bytesPerConnectionHibernated?: number;
}

export interface ConnectRun {
	connect: ConnectResult;
	memory: MemoryResult;
	/** Still open, for the hibernated reading; `finishConnect` closes them. */
	sockets: BenchSocket[];
	/** The sub of each socket in `sockets` (the drain's reconnect wave resumes as the same user). */
	subs: string[];
}

export interface ConnectOptions {
	/** All sockets share one `sub` (a diagnostic: no presence fan-out on join). */
	oneSub?: boolean;
	/** bare: the room variant (`presence`: the diagnostic of baton's connect-time frames). */
	variant?: BareVariant;
}

export async function runConnect(target: Target, room: string, sizes: Sizes, opts: ConnectOptions = {}): Promise<ConnectRun> {
	const sub = (i: number) => (opts.oneSub ? "same" : `c${i}`);
	const socketOpts = opts.variant === undefined ? {} : { variant: opts.variant };
	// One socket first: the object exists and the code is warm before the clock starts.
	const warm = await openSocket(target.socket(room, "warm", socketOpts));
	const half = Math.floor(sizes.connect / 2);
	const cpu0 = target.proc.cpuMs();
	const first = await openMany(half, sizes.connectConcurrency, sizes.phaseDeadlineMs, (i) => target.socket(room, sub(i), socketOpts));
	const cpuMid = target.proc.cpuMs();
	await pause(sizes.memorySettleMs);
	const rssFirst = target.proc.rssKiB();
	const cpuMid2 = target.proc.cpuMs();
	const second = await openMany(sizes.connect - half, sizes.connectConcurrency, sizes.phaseDeadlineMs, (i) => target.socket(room, sub(half + i), socketOpts));
	const cpu1 = target.proc.cpuMs();
	await pause(sizes.memorySettleMs);
	const rssSecond = target.proc.rssKiB();

	const runs: OpenManyResult[] = [first, second];
	const opened = first.sockets.length + second.sockets.length;
	const elapsedMs = first.elapsedMs + second.elapsedMs;
	const added = second.sockets.length;
	return {
		connect: {
			requested: sizes.connect,
			opened,
			subs: opts.oneSub ? 1 : opened,
			failures: first.failures + second.failures,
			failureSamples: [...first.failureSamples, ...second.failureSamples].slice(0, 5),
			timedOut: runs.some((r) => r.timedOut),
			elapsedMs: round(elapsedMs, 1),
			connectionsPerSec: perSecond(opened, elapsedMs),
			handshakeMs: summarize([...first.handshakeMs, ...second.handshakeMs]),
			workerdCpuMsPerConnection: opened > 0 ? round((cpuMid - cpu0 + (cpu1 - cpuMid2)) / opened, 3) : Number.NaN,
		},
		memory: {
			socketsAtFirst: first.sockets.length + 1,
			socketsAtSecond: opened + 1,
			rssFirstKiB: rssFirst,
			rssSecondKiB: rssSecond,
			bytesPerConnection: added > 0 ? Math.round(((rssSecond - rssFirst) * 1024) / added) : Number.NaN,
		},
		sockets: [warm.socket, ...first.sockets, ...second.sockets],
		subs: ["warm", ...first.indexes.map(sub), ...second.indexes.map((i) => sub(half + i))],
	};
}

/** Reads RSS after hibernation (the caller waited for it) into the run's memory result. */
export function readHibernated(target: Target, run: ConnectRun): void {
	const rss = target.proc.rssKiB();
	const added = run.memory.socketsAtSecond - run.memory.socketsAtFirst;
	run.memory.rssHibernatedKiB = rss;
	run.memory.bytesPerConnectionHibernated = added > 0 ? Math.round(((rss - run.memory.rssFirstKiB) * 1024) / added) : Number.NaN;
}

/** Reads RSS again (after the caller waited for hibernation) and closes the run's sockets. */
export async function finishConnect(target: Target, run: ConnectRun, hibernated: boolean): Promise<void> {
	if (hibernated) readHibernated(target, run);
	await closeAll(run.sockets);
}
