/**
 * What a frame from a client means, decided once at the boundary (CONTRACT.md §5, §6, §9):
 * binary → 1003, oversized → 1009, from a socket whose token expired → 4001, unparsable →
 * `bad_message` (the 10th protocol error within 60 s → 1008), else a publish or an `auth`.
 * Updates the attachment's liveness and strike record; the caller writes it.
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { type ErrorFrame, MessageType, type PublishFrame, parseClientFrame } from "../../protocol/messages.ts";
import type { Attachment } from "./attachment.ts";
import { tokenDeadline } from "./liveness.ts";
import { countStrike } from "./rate-limit.ts";

export type Inbound =
	| { kind: "close"; code: CloseCode; reason: object }
	| { kind: "error"; frame: ErrorFrame }
	| { kind: "publish"; frame: PublishFrame }
	| { kind: "auth"; token: string };

/** UTF-8 byte length, computed only when the string could be over the limit. */
function exceedsBytes(text: string, max: number): boolean {
	if (text.length * 3 <= max) return false;
	return new TextEncoder().encode(text).length > max;
}

export function readInbound(a: Attachment, message: string | ArrayBuffer, now: number, maxMessageBytes: number): Inbound {
	a.lastSeen = now;
	if (typeof message !== "string") return { kind: "close", code: CloseCode.UnsupportedData, reason: { code: ErrorCode.BadMessage } };
	if (exceedsBytes(message, maxMessageBytes)) return { kind: "close", code: CloseCode.MessageTooBig, reason: { code: ErrorCode.TooLarge } };
	if (tokenDeadline(a.exp) <= now) return { kind: "close", code: CloseCode.Unauthorized, reason: { code: ErrorCode.Unauthorized } };
	const parsed = parseClientFrame(message);
	if (!parsed.ok) {
		if (countStrike(a, now)) return { kind: "close", code: CloseCode.PolicyViolation, reason: { code: ErrorCode.BadMessage } };
		const frame: ErrorFrame = {
			type: MessageType.Error,
			code: ErrorCode.BadMessage,
			message: parsed.reason,
			...(parsed.id === undefined ? {} : { id: parsed.id }),
		};
		return { kind: "error", frame };
	}
	if (parsed.value.type === MessageType.Publish) return { kind: "publish", frame: parsed.value };
	return { kind: "auth", token: parsed.value.token };
}
