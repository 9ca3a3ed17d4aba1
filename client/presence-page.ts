/**
 * `room.presencePage()`: who is in the room, a page at a time, over
 * `GET /v1/rooms/:room/presence` (CONTRACT.md §12). In count mode (large rooms) `room.presence` is
 * only a sample and no join/leave frames keep it current; this reads everyone, sorted by sub.
 */
import type { PresenceEntry } from "../protocol/index.ts";
import { ErrorCode } from "../protocol/index.ts";
import { BatonError } from "./errors.ts";
import { getPage, type PageRequest } from "./history.ts";
import type { SignalLike } from "./signal.ts";
import { presenceUrl } from "./url.ts";

/** Default page size of `room.presencePage()` (the route's own default). */
export const DEFAULT_PRESENCE_PAGE = 100;
/** The route's largest page. */
export const MAX_PRESENCE_PAGE = 1000;

/** Options of `room.presencePage()`. */
export interface PresencePageOptions {
	/** The `next` of the page before (omit for the first page). */
	cursor?: string;
	/** At most this many subs, 1–1000. Default 100. */
	limit?: number;
	/** Aborting it rejects the call with an `aborted` error. */
	signal?: SignalLike;
}

/** One page of the room's presence. */
export interface PresencePage {
	/** Subs present, sorted by sub. */
	presence: PresenceEntry[];
	/** Distinct subs present when the page was read. */
	count: number;
	/** Pass as `cursor` for the next page; null on the last. */
	next: string | null;
}

export function checkPresenceOptions(options: PresencePageOptions): { cursor: string | null; limit: number } {
	const limit = options.limit ?? DEFAULT_PRESENCE_PAGE;
	if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PRESENCE_PAGE) {
		throw new BatonError(ErrorCode.BadRequest, `baton: limit must be an integer in 1-${MAX_PRESENCE_PAGE}`);
	}
	if (options.cursor !== undefined && (typeof options.cursor !== "string" || options.cursor === "")) {
		throw new BatonError(ErrorCode.BadRequest, "baton: cursor must be the next of an earlier page");
	}
	return { cursor: options.cursor ?? null, limit };
}

/** One `GET /v1/rooms/:room/presence?cursor&limit`. */
export function fetchPresencePage(request: PageRequest, cursor: string | null, limit: number): Promise<PresencePage> {
	return getPage(request, presenceUrl(request.base, request.room, cursor, limit), "presence", readPage);
}

function readPage(body: unknown): PresencePage | null {
	if (typeof body !== "object" || body === null) return null;
	const list: unknown = Reflect.get(body, "presence");
	const count: unknown = Reflect.get(body, "count");
	const next: unknown = Reflect.get(body, "next");
	if (!Array.isArray(list) || typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) return null;
	if (!(next === null || (typeof next === "string" && next !== ""))) return null;
	const presence: PresenceEntry[] = [];
	for (const item of list) {
		const sub: unknown = typeof item === "object" && item !== null ? Reflect.get(item, "sub") : undefined;
		const name: unknown = typeof item === "object" && item !== null ? Reflect.get(item, "name") : undefined;
		if (typeof sub !== "string" || typeof name !== "string") return null;
		presence.push({ sub, name });
	}
	return { presence, count, next };
}
