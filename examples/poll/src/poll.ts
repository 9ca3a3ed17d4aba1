/**
 * The poll itself: its question, its options, what a vote looks like, and the poll's own error
 * codes. One vote per sub, and it is final: a second vote (for any option) is refused with
 * `already_voted`. Pure; the room applies it (poll-room.ts).
 */

export const QUESTION = "Tabs or spaces?";
export const OPTIONS = ["tabs", "spaces"] as const;
export type PollOption = (typeof OPTIONS)[number];

/** The poll's own error codes (snake_case, as `onPublish` rejections must be). */
export const PollError = {
	/** Not `{ vote: <one of OPTIONS> }`. */
	InvalidVote: "invalid_vote",
	/** This sub has voted already; votes cannot be changed. */
	AlreadyVoted: "already_voted",
	/** A server-side publish that is not `{ type: "results" }`. */
	InvalidServerMessage: "invalid_server_message",
} as const;
export type PollError = (typeof PollError)[keyof typeof PollError];

/** Votes per option, and their sum. */
export interface Tally {
	counts: Record<PollOption, number>;
	total: number;
}

/** What the room stores and broadcasts. */
export type PollMessage =
	/** A vote, with the tally as counted right after it. */
	| { type: "vote"; option: PollOption; tally: Tally }
	/** Results posted by the app's own Worker code (`POST /api/polls/:room/results`). */
	| { type: "results"; question: string; tally: Tally };

/** What a voter sends. */
export interface VoteRequest {
	vote: PollOption;
}

export function isPollOption(value: unknown): value is PollOption {
	return typeof value === "string" && (OPTIONS as readonly string[]).includes(value);
}

/** The option a publish votes for, or why it is not a vote. */
export function readVote(data: unknown): { ok: true; option: PollOption } | { ok: false; code: PollError; message: string } {
	const vote: unknown = typeof data === "object" && data !== null ? Reflect.get(data, "vote") : undefined;
	if (!isPollOption(vote)) return { ok: false, code: PollError.InvalidVote, message: `send {vote: ${OPTIONS.map((o) => JSON.stringify(o)).join(" | ")}}` };
	return { ok: true, option: vote };
}

/** True for the one thing the app's own Worker publishes: a request to post the results. */
export function isResultsRequest(data: unknown): boolean {
	return typeof data === "object" && data !== null && Reflect.get(data, "type") === "results";
}
