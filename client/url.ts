import { QueryParam, roomSocketPath } from "../protocol/index.ts";

/** What goes in the query string of a connect. */
export interface SocketQuery {
	token: string;
	/** The resume token of the last `welcome`, when there was one. */
	resume: string | null;
	/** Replay messages with seq > after; null on a first connect that wants only live traffic. */
	after: number | null;
}

/**
 * Turns a gateway base URL into a room's WebSocket URL: `http` → `ws`, `https` → `wss`, the room
 * path appended to any base path, and the token in the `token` query parameter — the one place
 * that works from browsers (no custom headers on an upgrade) and from `ws` alike.
 *
 * @throws TypeError when `base` is not an absolute http(s)/ws(s) URL.
 */
export function socketUrl(base: string, room: string, query: SocketQuery): string {
	const url = new URL(base);
	url.protocol = socketScheme(url.protocol);
	url.pathname = url.pathname.replace(/\/+$/, "") + roomSocketPath(room);
	url.search = "";
	url.hash = "";
	url.searchParams.set(QueryParam.Token, query.token);
	if (query.resume !== null) url.searchParams.set(QueryParam.Resume, query.resume);
	if (query.after !== null) url.searchParams.set(QueryParam.After, String(query.after));
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
