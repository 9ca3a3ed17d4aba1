/**
 * Structured JSON log lines: one object per line with `event` first. Callers pass ids and codes,
 * never tokens or secrets (nothing here inspects values, so keep them out of `fields`).
 */
export type LogFields = Record<string, string | number | boolean | null | undefined | readonly string[]>;

/** Log levels, least severe first; LOG_LEVEL names the least severe one written. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Lines below this level are not written (set from LOG_LEVEL by readConfig; per isolate). */
let threshold = LOG_LEVELS.indexOf("info");

/** Writes lines at `level` and above from now on. */
export function setLogLevel(level: LogLevel): void {
	threshold = LOG_LEVELS.indexOf(level);
}

export function isLogLevel(value: unknown): value is LogLevel {
	return typeof value === "string" && (LOG_LEVELS as readonly string[]).includes(value);
}

function emit(level: "info" | "warn" | "error", event: string, fields: LogFields): void {
	// A line costs CPU and, with Workers Logs, a billed event: one per connect adds up.
	if (LOG_LEVELS.indexOf(level) < threshold) return;
	const line = JSON.stringify({ event, level, ...fields, ts: Date.now() });
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else console.log(line);
}

export const log = {
	info: (event: string, fields: LogFields = {}) => emit("info", event, fields),
	warn: (event: string, fields: LogFields = {}) => emit("warn", event, fields),
	error: (event: string, fields: LogFields = {}) => emit("error", event, fields),
};
