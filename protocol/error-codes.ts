import { CloseCode } from "./close-codes.ts";

/**
 * Every error code baton puts in an HTTP error body, an `error` frame or a refused upgrade's
 * close reason (CONTRACT.md §3, §5). One place maps each to its HTTP status and close code.
 */
export const ErrorCode = {
	/** Token missing, malformed, bad signature, expired, `nbf` ahead, an `alg` or key not accepted, `iss` / `aud` not as configured, or its JWK Set unavailable. */
	Unauthorized: "unauthorized",
	/** The room is not in the token's claims, the sub is banned from it, or (publishing) the `publish` claim lacks it. */
	Forbidden: "forbidden",
	/** An `Origin` header not in BATON_ALLOWED_ORIGINS. */
	OriginNotAllowed: "origin_not_allowed",
	/** Room name outside `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`. */
	BadRoom: "bad_room",
	/** Bad query or body parameters. */
	BadRequest: "bad_request",
	/** The room holds MAX_CONNECTIONS_PER_ROOM live connections. */
	RoomFull: "room_full",
	/** The room holds MAX_CONNECTIONS_PER_SUB live connections of this sub (CONTRACT.md §13). */
	TooManyConnections: "too_many_connections",
	/** No verification key is configured (BATON_JWT_SECRET, BATON_JWKS, BATON_JWKS_URL), or one is unusable. */
	ServerMisconfigured: "server_misconfigured",
	/** A WebSocket route called without `Upgrade: websocket`. */
	UpgradeRequired: "upgrade_required",
	/** An HTTP publish body over MAX_MESSAGE_BYTES. */
	TooLarge: "too_large",
	/** Unknown route, or the admin API is disabled. */
	NotFound: "not_found",
	/** A migrate target that is not one of BATON_REGIONS. */
	BadRegion: "bad_region",
	/** A migrate target that is already the room's home. */
	AlreadyThere: "already_there",
	/** Publishing is frozen while the room migrates; retry after reconnecting. */
	RoomMoving: "room_moving",
	/** A frame that is not JSON, has an unknown type or misses fields. */
	BadMessage: "bad_message",
	/** A publish refused by the (room, sub) token bucket (CONTRACT.md §13). */
	RateLimited: "rate_limited",
	/** Close reason of 4013: the connection fell too far behind what the room sent it (CONTRACT.md §13). */
	SlowConsumer: "slow_consumer",
	/** A migration step did not answer in time before the pointer flip; the room stays where it was. */
	MigrationFailed: "migration_failed",
	/** Anything unexpected; details are logged, never sent. */
	Internal: "internal",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for each error code on the HTTP routes. */
export const ERROR_HTTP_STATUS: Record<ErrorCode, number> = {
	unauthorized: 401,
	forbidden: 403,
	origin_not_allowed: 403,
	bad_room: 400,
	bad_request: 400,
	room_full: 503,
	too_many_connections: 503,
	server_misconfigured: 500,
	upgrade_required: 426,
	too_large: 413,
	not_found: 404,
	bad_region: 400,
	already_there: 409,
	room_moving: 503,
	bad_message: 400,
	rate_limited: 429,
	slow_consumer: 503,
	migration_failed: 503,
	internal: 500,
};

/** Close code used when an upgrade is refused with this error (§3 "Refusing an upgrade"). */
export function upgradeRefusalCloseCode(code: ErrorCode): CloseCode {
	switch (code) {
		case ErrorCode.Unauthorized:
			return CloseCode.Unauthorized;
		case ErrorCode.Forbidden:
		case ErrorCode.OriginNotAllowed:
			return CloseCode.Forbidden;
		case ErrorCode.BadRoom:
		case ErrorCode.BadRequest:
			return CloseCode.BadRequest;
		case ErrorCode.RoomFull:
		case ErrorCode.TooManyConnections:
		case ErrorCode.RoomMoving:
			return CloseCode.TryAgainLater;
		default:
			return CloseCode.InternalError;
	}
}

/** The JSON body of every HTTP error (§3). */
export interface ErrorBody {
	error: { code: ErrorCode; message: string };
}

const ERROR_CODE_VALUES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** Type guard for strings that are one of baton's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
	return typeof value === "string" && ERROR_CODE_VALUES.has(value);
}

/**
 * Codes an app's hook may refuse a publish with (CONTRACT.md §14): snake_case, at most 64
 * characters. `rate_limited` and `room_moving` are reserved: the SDK re-sends on those, so an app
 * answer spelled like them would retry a refused publish forever.
 */
const APP_ERROR_CODE = /^[a-z][a-z0-9_]{0,63}$/;
const RESERVED_APP_CODES: ReadonlySet<string> = new Set([ErrorCode.RateLimited, ErrorCode.RoomMoving]);

export function isAppErrorCode(value: unknown): value is string {
	return typeof value === "string" && APP_ERROR_CODE.test(value) && !RESERVED_APP_CODES.has(value);
}
