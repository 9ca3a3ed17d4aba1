/**
 * The poll's room: baton's room plus the poll's rules. `onPublish` accepts only a valid vote,
 * one per sub, records it in the room's own SQLite table and stores the vote with the tally
 * counted right after it; the app's own `roomClient` publish of `{ type: "results" }` becomes
 * the results, counted here, at the room's current home.
 */
import { BatonRoom, type PublishDecision, type PublishingMessage } from "baton-rooms/server";
import { isResultsRequest, PollError, type PollMessage, QUESTION, readVote } from "./poll.ts";
import { createVoteTable, readTally, recordVote } from "./votes.ts";

export class PollRoom extends BatonRoom<Env> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		createVoteTable(ctx.storage.sql);
	}

	// Synchronous on purpose: nothing else runs in the room between reading the table and writing
	// it, so two votes of one sub on two connections cannot both be counted.
	override onPublish(msg: PublishingMessage): PublishDecision {
		const sql = this.ctx.storage.sql;
		if (msg.source === "server") {
			if (!isResultsRequest(msg.data)) return { reject: { code: PollError.InvalidServerMessage, message: 'the server posts only {type: "results"}' } };
			const results: PollMessage = { type: "results", question: QUESTION, tally: readTally(sql) };
			return { data: results };
		}
		const vote = readVote(msg.data);
		if (!vote.ok) return { reject: { code: vote.code, message: vote.message } };
		const recorded = recordVote(sql, msg.sub, vote.option, msg.id, Date.now());
		if (!recorded.ok) return { reject: { code: PollError.AlreadyVoted, message: `you voted ${recorded.previous} already; votes are final` } };
		const stored: PollMessage = { type: "vote", option: vote.option, tally: readTally(sql) };
		return { data: stored };
	}
}
