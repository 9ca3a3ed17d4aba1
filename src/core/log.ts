/**
 * Structured JSON log lines: one object per line with `event` first. Callers pass ids and codes,
 * never tokens or secrets (nothing here inspects values, so keep them out of `fields`).
 */
export type LogFields = Record<string, string | number | boolean | null | undefined | readonly string[]>;

function emit(level: "info" | "warn" | "error", event: string, fields: LogFields): void {
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
