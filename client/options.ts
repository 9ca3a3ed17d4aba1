import { isValidRoomName } from "../protocol/index.ts";
import { type Backoff, resolveBackoff } from "./backoff.ts";
import { globalWebSocket, type WebSocketConstructor } from "./socket.ts";
import type { ConnectOptions, LogFn, TokenSource } from "./types.ts";
import { assertBaseUrl } from "./url.ts";

/** Default for {@link ConnectOptions.connectTimeout}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** {@link ConnectOptions} checked, with defaults filled in. */
export interface ResolvedOptions {
	/** Base URLs in dial order (`url` first); never empty. */
	endpoints: readonly string[];
	room: string;
	token: TokenSource;
	WebSocket: WebSocketConstructor;
	/** Starting point of delivery; null for a live-only first connect. */
	after: number | null;
	backoff: Backoff;
	connectTimeout: number;
	onLog: LogFn | undefined;
}

/**
 * Validates options once, at `connect()`: a mistake that could never work (bad room name, a
 * relative URL, no WebSocket at all) throws a TypeError there instead of looping on reconnects.
 */
export function resolveOptions(options: ConnectOptions): ResolvedOptions {
	const endpoints = [...(options.url === undefined ? [] : [options.url]), ...(options.endpoints ?? [])];
	if (endpoints.length === 0) throw new TypeError("baton: pass `url` or a non-empty `endpoints`");
	for (const endpoint of endpoints) assertBaseUrl(endpoint);
	if (!isValidRoomName(options.room)) throw new TypeError(`baton: invalid room name ${JSON.stringify(options.room)}`);
	const after = options.after;
	if (after !== undefined && !(Number.isSafeInteger(after) && after >= 0)) {
		throw new TypeError("baton: `after` must be a non-negative integer");
	}
	const WebSocket = options.WebSocket ?? globalWebSocket();
	if (WebSocket === undefined) {
		throw new TypeError("baton: no global WebSocket; pass the `WebSocket` option (e.g. the `ws` package's)");
	}
	const timeout = options.connectTimeout;
	return {
		endpoints,
		room: options.room,
		token: options.token,
		WebSocket,
		after: after ?? null,
		backoff: resolveBackoff(options.backoff),
		connectTimeout: timeout !== undefined && Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_CONNECT_TIMEOUT_MS,
		onLog: options.onLog,
	};
}
