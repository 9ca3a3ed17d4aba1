/**
 * Allowances for frames that are not publishes (CONTRACT.md §13): `ping` is free (the runtime
 * answers it); more than 6 `auth` frames within 60 s and more than 20 `read` frames within any
 * 1 s window count as protocol errors. Each frame beyond its allowance is one protocol error; the
 * frame is otherwise handled as usual. Kept in the attachment, as the frame times within the window.
 */
import type { Attachment } from "./attachment.ts";

export interface Allowance {
	frames: number;
	windowMs: number;
}

export const AUTH_ALLOWANCE: Allowance = { frames: 6, windowMs: 60_000 };
export const READ_ALLOWANCE: Allowance = { frames: 20, windowMs: 1_000 };

/**
 * Records a frame at `now` in `times` (the frames seen within the window); true when `allowance`
 * frames were already seen within the `windowMs` before it. Keeps at most `frames` times: the
 * oldest of those decides whether the next frame is over.
 */
export function recordFrame(times: readonly number[], now: number, allowance: Allowance): { times: number[]; over: boolean } {
	const recent = times.filter((t) => now - t < allowance.windowMs);
	const over = recent.length >= allowance.frames;
	recent.push(now);
	return { times: recent.slice(-allowance.frames), over };
}

/** Counts an `auth` frame on the connection; true when it is beyond the allowance. Mutates `a`. */
export function countAuthFrame(a: Attachment, now: number): boolean {
	const { times, over } = recordFrame(a.auths ?? [], now, AUTH_ALLOWANCE);
	a.auths = times;
	return over;
}

/** Counts a `read` frame on the connection; true when it is beyond the allowance. Mutates `a`. */
export function countReadFrame(a: Attachment, now: number): boolean {
	const { times, over } = recordFrame(a.reads ?? [], now, READ_ALLOWANCE);
	a.reads = times;
	return over;
}
