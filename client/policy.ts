import { CloseCode, type CloseReaction, closeReaction, parseCloseReason } from "../protocol/index.ts";
import { type Backoff, fullJitter, smallJitter } from "./backoff.ts";

/** Why a link ended: a close the socket reported, or a fault the SDK detected itself. */
export type LinkLoss = { kind: "close"; code: number; reason: string } | { kind: "local"; cause: LocalCause };

/** Faults the SDK detects on its own and answers by dropping the socket. */
export type LocalCause =
	/** No frame at all within `welcome.heartbeat.timeout`. */
	| "heartbeat_timeout"
	/** No `welcome` within the connect timeout. */
	| "connect_timeout"
	/** A live `message` skipped a seq: reconnect with `after` to have the server replay it. */
	| "sequence_gap"
	/** The app called `room.reconnect()`. */
	| "reconnect_requested"
	/** After an `offline` event, the open socket did not answer a probe `ping` in time. */
	| "network_probe_failed"
	/** After an `online` event: a dial begun before it, or an open socket that did not answer a probe. */
	| "network_online"
	/** The app called `room.suspend()`: no dial until `room.resume()`. */
	| "suspended";

/**
 * The close code a local fault is reported with in the `close` and `dial_failed` events. The
 * socket itself is closed with 4000 (a client may not send 1006, 4008 is the server's word, and
 * 1000 is the goodbye of `room.close()`), but the event says what happened.
 */
export const LOCAL_CLOSE_CODE: Record<LocalCause, number> = {
	heartbeat_timeout: CloseCode.HeartbeatTimeout,
	connect_timeout: CloseCode.Abnormal,
	sequence_gap: CloseCode.ClientReconnect,
	reconnect_requested: CloseCode.ClientReconnect,
	network_probe_failed: CloseCode.ClientReconnect,
	network_online: CloseCode.ClientReconnect,
	suspended: CloseCode.ClientReconnect,
};

/**
 * Local causes answered by dialing at once: the app or the browser says the network is back (for
 * `suspended`: at once when `room.resume()` is called, no backoff, same endpoint).
 */
const DIAL_NOW: ReadonlySet<LocalCause> = new Set(["reconnect_requested", "network_online", "suspended"]);

/** Facts about the connection at the moment a link ended, all the policy needs. */
export interface LossFacts {
	loss: LinkLoss;
	/** The link had received `welcome` (the session was live), as opposed to failing to connect. */
	welcomed: boolean;
	/** Retries since the last `welcome`, this one not counted. */
	attempt: number;
	/** 4001 closes since the last `welcome`, this one included. */
	unauthorizedSinceWelcome: number;
	/** The token option is a function, so a fresh token can be asked for. */
	canRefreshToken: boolean;
	backoff: Backoff;
	random?: () => number;
}

/** What to do after a link ended. */
export type NextStep =
	| {
			kind: "stop";
			/** Close code behind the stop. */
			closeCode: number;
			/** Reason string the server sent, when any (e.g. `{"code":"forbidden"}`). */
			reasonCode: string | undefined;
			/** The app should get an `error` event (false only for a normal 1000). */
			surface: boolean;
	  }
	| {
			kind: "retry";
			delayMs: number;
			/** Forget the cached token and ask the token function again before dialing. */
			refreshToken: boolean;
			/** Fail the publish that was too big for the server (1009). */
			dropTooLarge: boolean;
			/** Dial the next endpoint (region failover). */
			nextEndpoint: boolean;
	  };

const BACKOFF_RESUME: CloseReaction = { kind: "resume", delay: "backoff", refreshToken: false };

/**
 * Maps a lost link to the next step, following the SDK column of CONTRACT.md §6 through
 * {@link closeReaction}. Pure: the connection passes facts in, so every row is unit-testable.
 *
 * Two guards keep a misbehaving server from driving a hot loop:
 * - "resume now" is honoured only for a link that had been welcomed (or for the first 4001 token
 *   refresh); before any welcome it degrades to backoff.
 * - a second 4001 with no welcome since the previous one stops with an error: a freshly fetched
 *   token that is refused again will not get better by retrying. A static string token cannot be
 *   refreshed at all, so its first 4001 stops.
 */
export function nextStep(facts: LossFacts): NextStep {
	const { loss } = facts;
	if (loss.kind === "local" && DIAL_NOW.has(loss.cause)) {
		return { kind: "retry", delayMs: 0, refreshToken: false, dropTooLarge: false, nextEndpoint: false };
	}
	const reaction = loss.kind === "close" ? closeReaction(loss.code) : BACKOFF_RESUME;
	const code = loss.kind === "close" ? loss.code : LOCAL_CLOSE_CODE[loss.cause];
	const reason = loss.kind === "close" ? parseCloseReason(loss.reason) : {};
	if (reaction.kind === "stop") {
		return { kind: "stop", closeCode: code, reasonCode: reason.code, surface: reaction.surface };
	}
	if (reaction.refreshToken && (!facts.canRefreshToken || facts.unauthorizedSinceWelcome > 1)) {
		return { kind: "stop", closeCode: code, reasonCode: reason.code, surface: true };
	}
	const random = facts.random ?? Math.random;
	const backoff = fullJitter(facts.attempt, facts.backoff, random);
	let delayMs: number;
	switch (reaction.delay) {
		case "now":
			delayMs = facts.welcomed || reaction.refreshToken ? 0 : backoff;
			break;
		case "jitter":
			delayMs = smallJitter(facts.backoff, random);
			break;
		case "retryIn":
			if (reason.retryIn === undefined) delayMs = backoff;
			// 1013 is overload: honour retryIn and still back off, so a full room is not hammered.
			else if (code === CloseCode.TryAgainLater) delayMs = reason.retryIn + backoff;
			else delayMs = reason.retryIn + smallJitter(facts.backoff, random);
			break;
		case "backoff":
			delayMs = backoff;
			break;
	}
	return {
		kind: "retry",
		delayMs,
		refreshToken: reaction.refreshToken,
		dropTooLarge: reaction.dropPending === true,
		nextEndpoint: !facts.welcomed || code === CloseCode.Abnormal,
	};
}
