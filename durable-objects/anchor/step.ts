/**
 * One step of a migration: a call to a room that must answer within MIGRATION_STEP_TIMEOUT_MS
 * (CONTRACT.md §13), or the migration fails (before the anchor's flip) or is retried (after it).
 */

/** The longest a migration step (one call to a room) may take (CONTRACT.md §13). */
export const MIGRATION_STEP_TIMEOUT_MS = 10_000;

/** A step that did not answer in time: never mistaken for an older room's refusal (copy.ts). */
export class StepTimeout extends Error {}

/** Runs a step: its answer, or a StepTimeout after MIGRATION_STEP_TIMEOUT_MS (the call itself is left to finish or not). */
export type Step = <T>(name: string, call: Promise<T>) => Promise<T>;

export const step: Step = async <T>(name: string, call: Promise<T>): Promise<T> => {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new StepTimeout(`${name} did not answer within ${MIGRATION_STEP_TIMEOUT_MS} ms`)), MIGRATION_STEP_TIMEOUT_MS);
	});
	try {
		return await Promise.race([call, timeout]);
	} finally {
		if (timer !== undefined) clearTimeout(timer);
	}
};
