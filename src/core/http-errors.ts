import { ERROR_HTTP_STATUS, type ErrorBody, ErrorCode, isErrorCode } from "../../protocol/error-codes.ts";

/** Builds the JSON error body of §3: `{"error":{"code","message"}}`. */
export function errorBody(code: ErrorCode, message: string): ErrorBody {
	return { error: { code, message } };
}

/** A JSON error response with the status mapped from the code (or an explicit one). */
export function errorResponse(code: ErrorCode, message: string, init: { status?: number; headers?: Record<string, string> } = {}): Response {
	return Response.json(errorBody(code, message), { status: init.status ?? ERROR_HTTP_STATUS[code], headers: init.headers ?? {} });
}

/** Header the room sets on a refusal that carries a retry delay (room_full). */
export const RETRY_IN_HEADER = "x-baton-retry-in";

/** HTTP status of a publish the app's `onPublish` rejected (CONTRACT.md §14). */
export const REJECTED_STATUS = 422;

/**
 * The answer to an HTTP publish the room did not store: an app's rejection is 422 with its own
 * code; a freeze is 503 `room_moving` with `Retry-After`; any other baton code maps as usual
 * (`internal` → 500). A refusal without a message (an older room) gets a generic one.
 */
export function publishRefusal(result: { code: string; message?: string; rejected?: true; retryIn?: number }): Response {
	if (result.rejected === true || !isErrorCode(result.code)) {
		return Response.json({ error: { code: result.code, message: result.message ?? "the publish was rejected" } }, { status: REJECTED_STATUS });
	}
	if (result.code === ErrorCode.RoomMoving) return errorResponse(result.code, "the room is moving; publish again shortly", { headers: { "Retry-After": "1" } });
	// The (room, sub) bucket is empty (CONTRACT.md §13): 429 with the whole seconds until a token is back.
	if (result.code === ErrorCode.RateLimited) {
		const seconds = Math.max(1, Math.ceil((result.retryIn ?? 1000) / 1000));
		return errorResponse(result.code, result.message ?? "publish rate exceeded", { headers: { "Retry-After": String(seconds) } });
	}
	return errorResponse(result.code, result.message ?? "the publish could not be stored");
}
