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
	/** An `AbortSignal` passed to `connect()`, `publish()`, `history()` or `messages()` was aborted. */
	Aborted: "aborted",
	/** The publish was not acknowledged within `publishTimeout`; the SDK will not send it again. */
	PublishTimeout: "publish_timeout",
	/** `publish()` was called while `maxBuffered` publishes were already waiting for their ack. */
	OutboxFull: "outbox_full",
	/** A `room.messages()` iterator fell more than its `bufferSize` behind; it ends with this error. */
	BufferOverflow: "buffer_overflow",
	/** An HTTP request (`room.history()`) got no response: offline, DNS, refused, CORS. */
	NetworkError: "network_error",
} as const;

/** One of {@link ClientErrorCode}'s values. */
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Every code an SDK error can carry. */
export type BatonErrorCode = ErrorCode | ClientErrorCode;

/**
 * A code of the app's own: a room's `onPublish` hook rejected a publish with it (docs/server-api.md).
 * Any snake_case string the app chose; baton's own codes are {@link BatonErrorCode}.
 */
export type AppErrorCode = string & {};

/** Optional facts a {@link BatonError} carries. */
export interface BatonErrorDetails {
	/** The close code that caused the error. */
	closeCode?: number;
	/** The HTTP status of a failed `room.history()` request. */
	status?: number;
	/** The id of the publish this error settled. */
	publishId?: string;
	/**
	 * For a publish that was given up on (`aborted`, `publish_timeout`): true when it had been
	 * sent, so the room may have stored it — at most once; it then reaches every client (this one
	 * included) as a `message` with id {@link publishId}. False: it was never sent, never stored.
	 */
	maybeStored?: boolean;
}

/**
 * The error a `publish()`, `history()`, `ready` or `messages()` promise rejects with, and the
 * shape of the `error` event.
 *
 * @example
 * try {
 *   await room.publish(data, { timeout: 5_000 });
 * } catch (e) {
 *   if (e instanceof BatonError && e.code === "publish_timeout" && !e.maybeStored) retryLater(data);
 * }
 */
export class BatonError extends Error {
	override readonly name = "BatonError";
	/** Stable, machine-readable code (snake_case): baton's, or the app's own from an `onPublish` rejection. */
	readonly code: BatonErrorCode | AppErrorCode;
	/** The close code that caused the error, when a close did. */
	readonly closeCode: number | undefined;
	/** The HTTP status, for a failed HTTP request. */
	readonly status: number | undefined;
	/** The publish id, for an error that settled a publish. */
	readonly publishId: string | undefined;
	/** See {@link BatonErrorDetails.maybeStored}; undefined where it does not apply. */
	readonly maybeStored: boolean | undefined;

	constructor(code: BatonErrorCode | AppErrorCode, message: string, details: BatonErrorDetails = {}) {
		super(message);
		this.code = code;
		this.closeCode = details.closeCode;
		this.status = details.status;
		this.publishId = details.publishId;
		this.maybeStored = details.maybeStored;
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
