import { ERROR_HTTP_STATUS, type ErrorBody, type ErrorCode } from "../../protocol/error-codes.ts";

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
