/**
 * What a frame from a client means, decided once at the boundary (CONTRACT.md §5, §6, §9, §13):
 * binary → 1003, oversized → 1009, from a socket whose token expired → 4001, unparsable or `data`
 * nested too deep → `bad_message` (the 10th protocol error within 60 s → 1008), else a publish,
 * an `auth` or a `read` — the last two within their allowances (frame-allowance.ts), a frame
 * beyond one counting as a protocol error. Updates the attachment's liveness, strikes and frame
 * times; the caller writes it.
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { jsonDepthExceeds, MAX_DATA_DEPTH } from "../../protocol/json-depth.ts";
import { type ErrorFrame, MessageType, type PublishFrame, parseClientFrame } from "../../protocol/messages.ts";
import type { Attachment } from "./attachment.ts";
import { countAuthFrame, countReadFrame } from "./frame-allowance.ts";
import { tokenDeadline } from "./liveness.ts";
import { countStrike } from "./rate-limit.ts";

export type Inbound =
	| { kind: "close"; code: CloseCode; reason: object }
	| { kind: "error"; frame: ErrorFrame }
	| { kind: "publish"; frame: PublishFrame }
	/** `struck`: this frame already counted as a protocol error (beyond the allowance). */
	| { kind: "auth"; token: string; struck: boolean }
	/** A `read` to apply: `seq` is at most what the room sent. */
	| { kind: "read"; seq: number }
	/** Handled here (a `read` above what was sent: a protocol error); nothing to answer. */
	| { kind: "none" };

export interface InboundContext {
	maxMessageBytes: number;
	/** The highest seq the room sent any connection: its log head (replays send without a break). */
	head: () => number;
}

const POLICY_CLOSE: Inbound = { kind: "close", code: CloseCode.PolicyViolation, reason: { code: ErrorCode.BadMessage } };

/** UTF-8 byte length, computed only when the string could be over the limit. */
function exceedsBytes(text: string, max: number): boolean {
	if (text.length * 3 <= max) return false;
	return new TextEncoder().encode(text).length > max;
}

function badMessage(a: Attachment, now: number, reason: string, id: string | undefined): Inbound {
	if (countStrike(a, now)) return POLICY_CLOSE;
	const frame: ErrorFrame = { type: MessageType.Error, code: ErrorCode.BadMessage, message: reason, ...(id === undefined ? {} : { id }) };
	return { kind: "error", frame };
}

export function readInbound(a: Attachment, message: string | ArrayBuffer, now: number, ctx: InboundContext): Inbound {
	a.lastSeen = now;
	if (typeof message !== "string") return { kind: "close", code: CloseCode.UnsupportedData, reason: { code: ErrorCode.BadMessage } };
	if (exceedsBytes(message, ctx.maxMessageBytes)) return { kind: "close", code: CloseCode.MessageTooBig, reason: { code: ErrorCode.TooLarge } };
	if (tokenDeadline(a.exp) <= now) return { kind: "close", code: CloseCode.Unauthorized, reason: { code: ErrorCode.Unauthorized } };
	const parsed = parseClientFrame(message);
	if (!parsed.ok) return badMessage(a, now, parsed.reason, parsed.id);
	const frame = parsed.value;
	switch (frame.type) {
		case MessageType.Publish:
			// Nothing this deep is stored: history and replay could not serialize it back (§13).
			if (jsonDepthExceeds(frame.data, MAX_DATA_DEPTH)) return badMessage(a, now, `data nests deeper than ${MAX_DATA_DEPTH} levels`, frame.id);
			return { kind: "publish", frame };
		case MessageType.Auth: {
			const struck = countAuthFrame(a, now);
			if (struck && countStrike(a, now)) return POLICY_CLOSE;
			return { kind: "auth", token: frame.token, struck };
		}
		case MessageType.Read: {
			// One protocol error per frame at most: beyond the allowance, or above what was sent.
			const over = countReadFrame(a, now);
			const above = frame.seq > ctx.head();
			if ((over || above) && countStrike(a, now)) return POLICY_CLOSE;
			return above ? { kind: "none" } : { kind: "read", seq: frame.seq };
		}
	}
}
