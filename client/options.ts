import { isValidRoomName } from "../protocol/index.ts";
import { type Backoff, resolveBackoff } from "./backoff.ts";
import { type FetchLike, globalFetch } from "./history.ts";
import { defaultNetworkEvents, type NetworkEvents } from "./network.ts";
import { defaultPersistKey, defaultStorage, type StorageLike } from "./persist.ts";
import type { SignalLike } from "./signal.ts";
import { globalWebSocket, type WebSocketConstructor } from "./socket.ts";
import type { ConnectOptions, LogFn, TokenSource } from "./types.ts";
import { assertBaseUrl } from "./url.ts";

/** Default for {@link ConnectOptions.connectTimeout}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Default for {@link ConnectOptions.maxBuffered}. */
export const DEFAULT_MAX_BUFFERED = 1000;

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
	signal: SignalLike | undefined;
	maxBuffered: number;
	/** null: no timeout. */
	publishTimeout: number | null;
	network: NetworkEvents | null;
	/** null: `persist` is off (or on without any storage in this runtime). */
	persist: { storage: StorageLike; key: string } | null;
	fetch: FetchLike | undefined;
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
	const maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
	if (!(maxBuffered === Number.POSITIVE_INFINITY || (Number.isSafeInteger(maxBuffered) && maxBuffered >= 1))) {
		throw new TypeError("baton: `maxBuffered` must be a positive integer or Infinity");
	}
	const publishTimeout = options.publishTimeout;
	if (publishTimeout !== undefined) assertTimeout(publishTimeout, "publishTimeout");
	return {
		endpoints,
		room: options.room,
		token: options.token,
		WebSocket,
		after: after ?? null,
		backoff: resolveBackoff(options.backoff),
		connectTimeout: timeout !== undefined && Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_CONNECT_TIMEOUT_MS,
		signal: options.signal,
		maxBuffered,
		publishTimeout: publishTimeout ?? null,
		network: options.network === undefined ? defaultNetworkEvents() : options.network,
		persist: resolvePersist(options, endpoints[0] ?? ""),
		fetch: options.fetch ?? globalFetch(),
		onLog: options.onLog,
	};
}

/** Throws unless `ms` is a usable timeout (a positive finite number of milliseconds). */
export function assertTimeout(ms: number, name: string): void {
	if (!(Number.isFinite(ms) && ms > 0)) throw new TypeError(`baton: \`${name}\` must be a positive number of milliseconds`);
}

function resolvePersist(options: ConnectOptions, endpoint: string): ResolvedOptions["persist"] {
	const persist = options.persist;
	if (persist === undefined || persist === false) return null;
	const settings = persist === true ? {} : persist;
	const storage = settings.storage ?? defaultStorage();
	if (storage === undefined) return null;
	return { storage, key: settings.key ?? defaultPersistKey(endpoint, options.room) };
}
