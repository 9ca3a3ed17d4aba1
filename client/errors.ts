import { CloseCode, ErrorCode } from "../protocol/index.ts";

/**
 * Error codes only the SDK produces (the server's own are {@link ErrorCode}). Together they are
 * the `code` of every {@link BatonError} and `error` event.
 */
export const ClientErrorCode = {
	/** `room.close()` was called, or the room stopped, before the publish was acknowledged. */
	Closed: "closed",
	/** The token function threw or returned something that is not a non-empty string. */
	TokenUnavailable: "token_unavailable",
	/** The server closed with 1003: the SDK sent a binary frame. */
	UnsupportedData: "unsupported_data",
	/** The server closed with 1008: too many protocol errors. */
	PolicyViolation: "policy_violation",
	/** The server closed with 4011: a newer connection resumed this session. */
	SessionReplaced: "session_replaced",
	/** The server stopped the connection normally (1000). */
	ClosedByServer: "closed_by_server",
} as const;

/** One of {@link ClientErrorCode}'s values. */
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Every code an SDK error can carry. */
export type BatonErrorCode = ErrorCode | ClientErrorCode;

/**
 * The error a `publish()` promise rejects with, and the shape of the `error` event.
 *
 * @example
 * try { await room.publish(data); } catch (e) { if (e instanceof BatonError && e.code === "too_large") shrink(); }
 */
export class BatonError extends Error {
	override readonly name = "BatonError";
	/** Stable, machine-readable code (snake_case). */
	readonly code: BatonErrorCode;
	/** The close code that caused the error, when a close did. */
	readonly closeCode: number | undefined;

	constructor(code: BatonErrorCode, message: string, closeCode?: number) {
		super(message);
		this.code = code;
		this.closeCode = closeCode;
	}
}

const STOP_CODES: Partial<Record<number, BatonErrorCode>> = {
	[CloseCode.Normal]: ClientErrorCode.ClosedByServer,
	[CloseCode.UnsupportedData]: ClientErrorCode.UnsupportedData,
	[CloseCode.PolicyViolation]: ClientErrorCode.PolicyViolation,
	[CloseCode.Unauthorized]: ErrorCode.Unauthorized,
	[CloseCode.Forbidden]: ErrorCode.Forbidden,
	[CloseCode.SessionReplaced]: ClientErrorCode.SessionReplaced,
	[CloseCode.BadRequest]: ErrorCode.BadRequest,
};

/**
 * The error code for a close the SDK stops on: the code the server put in the reason
 * (`{"code":"origin_not_allowed"}`) when it is a known one, else the one the close code implies.
 */
export function stopErrorCode(closeCode: number, reasonCode: string | undefined): BatonErrorCode {
	if (reasonCode !== undefined && isBatonErrorCode(reasonCode)) return reasonCode;
	return STOP_CODES[closeCode] ?? ErrorCode.Internal;
}

const ALL_CODES: ReadonlySet<string> = new Set<string>([...Object.values(ErrorCode), ...Object.values(ClientErrorCode)]);

function isBatonErrorCode(value: string): value is BatonErrorCode {
	return ALL_CODES.has(value);
}
