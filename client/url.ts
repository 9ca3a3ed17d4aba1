import { AUTH_PROTOCOL_PREFIX, PROTOCOL, QueryParam, roomMessagesPath, roomPresencePath, roomSocketPath } from "../protocol/index.ts";

/** What goes in the query string of a connect (the access token travels as a subprotocol). */
export interface SocketQuery {
	/** The resume token of the last `welcome`, when there was one. */
	resume: string | null;
	/** Replay messages with seq > after; null on a first connect that wants only live traffic. */
	after: number | null;
	/** The log epoch `after` counts in (the last `welcome.epoch`); null when none is known. */
	epoch?: string | null;
}

/**
 * Turns a gateway base URL into a room's WebSocket URL: `http` → `ws`, `https` → `wss`, the room
 * path appended to any base path, plus `resume`, `after` and `epoch`. The access token is not in the URL:
 * it goes in the `baton.auth.<jwt>` subprotocol (see {@link socketProtocols}), so it never shows in
 * URL logs or browser consoles.
 *
 * @throws TypeError when `base` is not an absolute http(s)/ws(s) URL.
 */
export function socketUrl(base: string, room: string, query: SocketQuery): string {
	const url = new URL(base);
	url.protocol = socketScheme(url.protocol);
	url.pathname = url.pathname.replace(/\/+$/, "") + roomSocketPath(room);
	url.search = "";
	url.hash = "";
	if (query.resume !== null) url.searchParams.set(QueryParam.Resume, query.resume);
	if (query.after !== null) url.searchParams.set(QueryParam.After, String(query.after));
	if (query.epoch !== undefined && query.epoch !== null) url.searchParams.set(QueryParam.Epoch, query.epoch);
	return url.toString();
}

/**
 * A room's history URL on the gateway `base` (`ws` → `http`, `wss` → `https`): the HTTP twin of
 * {@link socketUrl}, so one `url` option serves both.
 */
export function historyUrl(base: string, room: string, after: number, limit: number): string {
	const url = new URL(base);
	url.protocol = socketScheme(url.protocol) === "wss:" ? "https:" : "http:";
	url.pathname = url.pathname.replace(/\/+$/, "") + roomMessagesPath(room);
	url.search = "";
	url.hash = "";
	url.searchParams.set(QueryParam.After, String(after));
	url.searchParams.set(QueryParam.Limit, String(limit));
	return url.toString();
}

/** A room's presence-list URL on the gateway `base` (as {@link historyUrl}): one page after `cursor`. */
export function presenceUrl(base: string, room: string, cursor: string | null, limit: number): string {
	const url = new URL(base);
	url.protocol = socketScheme(url.protocol) === "wss:" ? "https:" : "http:";
	url.pathname = url.pathname.replace(/\/+$/, "") + roomPresencePath(room);
	url.search = "";
	url.hash = "";
	if (cursor !== null) url.searchParams.set(QueryParam.Cursor, cursor);
	url.searchParams.set(QueryParam.Limit, String(limit));
	return url.toString();
}

/** Throws unless `base` can be turned into a socket URL; called once, by `connect()`. */
export function assertBaseUrl(base: string): void {
	socketScheme(new URL(base).protocol);
}

function socketScheme(protocol: string): string {
	switch (protocol) {
		case "http:":
		case "ws:":
			return "ws:";
		case "https:":
		case "wss:":
			return "wss:";
		default:
			throw new TypeError(`baton: unsupported URL scheme ${protocol}`);
	}
}

/**
 * Subprotocols offered on a connect: `baton.v1`, and the access token as `baton.auth.<jwt>` — the
 * one place besides the URL that browsers let an upgrade carry it (CONTRACT.md §4).
 */
export function socketProtocols(token: string): string[] {
	return [PROTOCOL, `${AUTH_PROTOCOL_PREFIX}${token}`];
}
