/**
 * Counters for dashboards, written to Workers Analytics Engine (docs/deploy.md, "Dashboards"):
 * one data point per event, no SQLite row and no await on the hot path. The binding is optional
 * (`BATON_METRICS` in wrangler.toml); without it every call is a no-op, so apps that extend baton
 * without a dataset lose nothing but the dashboard.
 *
 * Data point layout (stable: dashboards query it by position):
 * - `index1`: the room name (Analytics Engine samples per index, so busy rooms do not crowd out quiet ones)
 * - `blob1`: the event (MetricEvent), `blob2`: its detail (close code, publish source, …), `blob3`: the region
 * - `double1`: how many (1 for a single event; the number of messages for `replay`)
 */

/** The binding name baton looks for. */
export const METRICS_BINDING = "BATON_METRICS";

/** Every counted event. */
export const MetricEvent = {
	/** A connection accepted by a room; detail `fresh` or `resumed`. */
	Connect: "connect",
	/** A connection ended; detail: the close code (sent by the room, or received from the client). */
	Close: "close",
	/** A message stored; detail: `socket`, `http` or `server`. */
	Publish: "publish",
	/** Messages replayed to a connecting client after `welcome`; double1 = how many. */
	Replay: "replay",
} as const;
export type MetricEvent = (typeof MetricEvent)[keyof typeof MetricEvent];

/** The part of an Analytics Engine dataset binding baton uses (so tests can pass a recorder). */
export interface MetricsSink {
	writeDataPoint(point: { indexes?: string[]; blobs?: string[]; doubles?: number[] }): void;
}

function isSink(value: unknown): value is MetricsSink {
	return typeof value === "object" && value !== null && typeof (value as { writeDataPoint?: unknown }).writeDataPoint === "function";
}

/** Finds the dataset binding in a Worker's env, if the deployment has one. */
export function metricsSinkFrom(env: object): MetricsSink | null {
	const value: unknown = (env as Record<string, unknown>)[METRICS_BINDING];
	return isSink(value) ? value : null;
}

export class Metrics {
	constructor(
		private readonly sink: MetricsSink | null,
		private readonly region: string,
	) {}

	/** Counts `n` occurrences of `event` in `room`. Never throws: a metrics fault must not fail a request. */
	count(event: MetricEvent, room: string, detail: string | number = "", n = 1): void {
		if (this.sink === null || n <= 0) return;
		try {
			this.sink.writeDataPoint({ indexes: [room], blobs: [event, String(detail), this.region], doubles: [n] });
		} catch {
			// Analytics Engine drops points under pressure; so do we.
		}
	}
}
