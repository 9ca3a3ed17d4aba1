/**
 * Waits for structured log lines of the room host across its restarts: the harness's own wait
 * sees only the current process, and a crashed migration is often recovered by the *next* one.
 * Fed from the cluster's output tap; keeps only the events it was asked about (bounded memory).
 */
import { stripVTControlCharacters } from "node:util";

export interface LogEvent {
	event: string;
	[key: string]: unknown;
}

interface Waiter {
	pred: (e: LogEvent) => boolean;
	since: number;
	resolve: (e: LogEvent | null) => void;
	timer: NodeJS.Timeout;
}

/** Lines kept to answer waits that start after the line arrived. */
const KEEP = 500;

export class LogWatch {
	private readonly partial = new Map<string, string>();
	private readonly recent: Array<{ at: number; e: LogEvent }> = [];
	private waiters: Waiter[] = [];

	/** `events`: the event names worth keeping; `process`: whose output to read. */
	constructor(
		private readonly events: ReadonlySet<string>,
		private readonly process: string,
	) {}

	feed(label: string, text: string): void {
		if (label !== this.process) return;
		const lines = ((this.partial.get(label) ?? "") + text).split("\n");
		this.partial.set(label, lines.pop() ?? "");
		for (const raw of lines) this.line(raw);
	}

	/** The first matching line that arrived at or after `since` (ms), or null after `timeoutMs`. */
	waitFor(pred: (e: LogEvent) => boolean, since: number, timeoutMs: number): Promise<LogEvent | null> {
		const seen = this.recent.find((r) => r.at >= since && pred(r.e));
		if (seen) return Promise.resolve(seen.e);
		return new Promise((resolve) => {
			const waiter: Waiter = {
				pred,
				since,
				resolve,
				timer: setTimeout(() => {
					this.waiters = this.waiters.filter((w) => w !== waiter);
					resolve(null);
				}, timeoutMs),
			};
			this.waiters.push(waiter);
		});
	}

	private line(raw: string): void {
		const line = stripVTControlCharacters(raw);
		const start = line.indexOf("{");
		const end = line.lastIndexOf("}");
		if (start === -1 || end < start || !line.includes('"event"')) return;
		let e: LogEvent;
		try {
			const v: unknown = JSON.parse(line.slice(start, end + 1));
			if (typeof v !== "object" || v === null || typeof (v as LogEvent).event !== "string") return;
			e = v as LogEvent;
		} catch {
			return;
		}
		if (!this.events.has(e.event)) return;
		const at = Date.now();
		this.recent.push({ at, e });
		if (this.recent.length > KEEP) this.recent.shift();
		this.waiters = this.waiters.filter((w) => {
			if (at < w.since || !w.pred(e)) return true;
			clearTimeout(w.timer);
			w.resolve(e);
			return false;
		});
	}
}
