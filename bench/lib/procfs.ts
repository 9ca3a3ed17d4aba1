/**
 * Linux /proc readers for the bench: which workerd process runs a target's Worker, its resident
 * memory, its CPU time, and the loopback ports it listens on. Linux only, as is the bench.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

function readText(path: string): string | null {
	try {
		return readFileSync(path, "utf8");
	} catch {
		return null;
	}
}

/** Direct children of `pid` (scans /proc; cheap enough for a handful of calls). */
export function childPids(pid: number): number[] {
	const out: number[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		const stat = readText(`/proc/${entry}/stat`);
		if (stat === null) continue;
		// Fields after the parenthesised command name: state, ppid, ...
		const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		if (Number(rest[1]) === pid) out.push(Number(entry));
	}
	return out;
}

/** All descendants of `pid`, depth first. */
export function descendantPids(pid: number): number[] {
	const out: number[] = [];
	for (const child of childPids(pid)) out.push(child, ...descendantPids(child));
	return out;
}

/** The process's command line as arguments. */
export function cmdline(pid: number): string[] {
	return (readText(`/proc/${pid}/cmdline`) ?? "").split("\0").filter((s) => s !== "");
}

/**
 * The workerd process that runs the user Worker under `wrangler dev`. wrangler starts two: one
 * for its proxy Worker (bound to the public port) and one for the user Worker, which is the one
 * started with an inspector address.
 */
export function findUserWorkerd(wranglerPid: number): number | null {
	const workerds = descendantPids(wranglerPid).filter((p) => (cmdline(p)[0] ?? "").endsWith("/workerd"));
	return workerds.find((p) => cmdline(p).some((a) => a.startsWith("--inspector-addr"))) ?? null;
}

/** Resident set size in KiB (VmRSS), or null when the process is gone. */
export function rssKiB(pid: number): number | null {
	const match = /VmRSS:\s+(\d+)\s+kB/.exec(readText(`/proc/${pid}/status`) ?? "");
	return match?.[1] === undefined ? null : Number(match[1]);
}

/**
 * CPU time in milliseconds summed over every thread of the process, from the scheduler's
 * nanosecond counters (/proc/<pid>/task/<tid>/schedstat), which are far finer than the 10 ms
 * ticks of /proc/<pid>/stat.
 */
export function cpuMs(pid: number): number {
	let ns = 0;
	let tids: string[] = [];
	try {
		tids = readdirSync(`/proc/${pid}/task`);
	} catch {
		return 0;
	}
	for (const tid of tids) {
		const first = (readText(`/proc/${pid}/task/${tid}/schedstat`) ?? "0").split(" ")[0];
		ns += Number(first ?? 0);
	}
	return ns / 1e6;
}

/** TCP ports the process listens on at 127.0.0.1 (matched through its socket inodes). */
export function listeningPorts(pid: number): number[] {
	const inodes = new Set<string>();
	let fds: string[] = [];
	try {
		fds = readdirSync(`/proc/${pid}/fd`);
	} catch {
		return [];
	}
	for (const fd of fds) {
		try {
			const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
			if (match?.[1] !== undefined) inodes.add(match[1]);
		} catch {
			// The fd closed while we looked.
		}
	}
	const ports: number[] = [];
	for (const line of (readText("/proc/net/tcp") ?? "").split("\n").slice(1)) {
		const cols = line.trim().split(/\s+/);
		const [local, , state] = [cols[1], cols[2], cols[3]];
		// 0A = LISTEN; 0100007F = 127.0.0.1 in /proc's little-endian hex.
		if (state !== "0A" || local === undefined || !local.startsWith("0100007F:") || !inodes.has(cols[9] ?? "")) continue;
		ports.push(Number.parseInt(local.slice(9), 16));
	}
	return ports;
}

/** One-minute load average, to record how busy the machine was. */
export function loadAverage(): number {
	return Number((readText("/proc/loadavg") ?? "0").split(" ")[0]);
}
