/**
 * `room.history()`: pages of a room's kept messages over `GET /v1/rooms/:room/messages`
 * (CONTRACT.md §3, §9). The route pages forward (`after`, `limit`); paging backward (`before`) is
 * computed here: a room's kept seqs are contiguous (the log is gapless and trimmed only from the
 * oldest end), so the `limit` messages before `before` are exactly those after
 * `max(0, before - 1 - limit)`, trimmed to `seq < before`.
 */
import { ErrorCode, isErrorCode, type MessageFrame, messageFrameFrom } from "../protocol/index.ts";
import { BatonError, ClientErrorCode } from "./errors.ts";
import type { SignalLike } from "./signal.ts";
import { historyUrl } from "./url.ts";

/** Default page size of `room.history()` (the route's own default). */
export const DEFAULT_HISTORY_PAGE = 100;
/** The route's largest page. */
export const MAX_HISTORY_PAGE = 500;

/** Options of `room.history()`. */
export interface HistoryOptions {
	/** Only messages with a seq below this (paging back: pass the first seq of the previous page). */
	before?: number;
	/** Only messages with a seq above this (paging forward, or catching up from a saved seq). */
	after?: number;
	/** At most this many messages, 1–500. Default 100. */
	limit?: number;
	/** Aborting it rejects the call with an `aborted` error. */
	signal?: SignalLike;
}

/** One page of history, oldest first. */
export interface HistoryPage<T = unknown> {
	/** Messages in seq order (the same shape as `message` events). */
	messages: MessageFrame<T>[];
	/** The room's head seq when the page was read. */
	seq: number;
	/** The oldest seq the room still keeps, or null when it keeps none. */
	oldest: number | null;
	/**
	 * More kept messages lie beyond this page in the direction of travel: older ones before
	 * `messages[0]` (with `before`, or without `before`/`after`), newer ones after the last (with
	 * only `after`).
	 */
	hasMore: boolean;
}

/** A page exactly as the route answers it. */
export interface RawHistoryPage {
	messages: MessageFrame[];
	seq: number;
	oldest: number | null;
}

/** The slice of the Fetch API `room.history()` uses. */
export type FetchLike = (url: string, init: { method: "GET"; headers: Record<string, string>; signal?: SignalLike }) => Promise<ResponseLike>;

/** The slice of a Fetch `Response` `room.history()` reads. */
export interface ResponseLike {
	readonly ok: boolean;
	readonly status: number;
	json(): Promise<unknown>;
}

/** The global `fetch`, when the runtime has one. */
export function globalFetch(): FetchLike | undefined {
	const candidate: unknown = Reflect.get(globalThis, "fetch");
	return typeof candidate === "function" ? (candidate.bind(globalThis) as FetchLike) : undefined;
}

/**
 * Reads one page according to `options`, with `getPage(after, limit)` doing the request. Without
 * `before` or `after` it returns the newest messages: one request when `headHint` (the newest seq
 * the connection knows) is current, a second when the room has moved on.
 */
export async function loadHistory<T>(
	getPage: (after: number, limit: number) => Promise<RawHistoryPage>,
	options: HistoryOptions,
	headHint: number,
): Promise<HistoryPage<T>> {
	const limit = options.limit ?? DEFAULT_HISTORY_PAGE;
	const { before, after } = options;
	if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) throw badRequest(`limit must be an integer in 1-${MAX_HISTORY_PAGE}`);
	if (before !== undefined && !(Number.isSafeInteger(before) && before >= 1)) throw badRequest("before must be an integer ≥ 1");
	if (after !== undefined && !(Number.isSafeInteger(after) && after >= 0)) throw badRequest("after must be an integer ≥ 0");

	if (before === undefined && after !== undefined) {
		const page = await getPage(after, limit);
		const last = page.messages.at(-1);
		return { ...page, messages: typed<T>(page.messages), hasMore: last !== undefined && last.seq < page.seq };
	}
	if (before !== undefined) {
		const floor = after ?? 0;
		const page = await getPage(Math.max(floor, before - 1 - limit), limit);
		return backward<T>(page, (m) => m.seq < before, floor);
	}
	let from = Math.max(0, headHint - limit);
	let page = await getPage(from, limit);
	if (page.seq - from > limit) {
		// The room is ahead of what this connection has seen: read the last `limit` again.
		from = page.seq - limit;
		page = await getPage(from, limit);
	}
	return backward<T>(page, () => true, 0);
}

function backward<T>(page: RawHistoryPage, keep: (m: MessageFrame) => boolean, floor: number): HistoryPage<T> {
	const messages = page.messages.filter(keep);
	const first = messages[0];
	const hasMore = first !== undefined && page.oldest !== null && first.seq > page.oldest && first.seq > floor + 1;
	return { messages: typed<T>(messages), seq: page.seq, oldest: page.oldest, hasMore };
}

/** `T` is the app's word for what its publishers send; nothing on the wire checks it. */
function typed<T>(messages: MessageFrame[]): MessageFrame<T>[] {
	return messages as MessageFrame<T>[];
}

/** Where and with what one page request goes. */
export interface PageRequest {
	fetch: FetchLike;
	base: string;
	room: string;
	token: string;
	signal: SignalLike | undefined;
}

/**
 * One `GET /v1/rooms/:room/messages?after&limit`. Rejects with a {@link BatonError}: the route's
 * error code and `status` for an error answer, `network_error` when no answer came, `aborted`.
 */
export function fetchHistoryPage(request: PageRequest, after: number, limit: number): Promise<RawHistoryPage> {
	return getPage(request, historyUrl(request.base, request.room, after, limit), "history", rawPage);
}

/**
 * One authorized `GET` of a room route, its JSON body read by `read` (null: malformed). Rejects
 * with a {@link BatonError}: the route's error code and `status`, `network_error`, `aborted`.
 */
export async function getPage<P>(request: PageRequest, url: string, what: string, read: (body: unknown) => P | null): Promise<P> {
	let response: ResponseLike;
	try {
		response = await request.fetch(url, {
			method: "GET",
			headers: { Authorization: `Bearer ${request.token}` },
			...(request.signal === undefined ? {} : { signal: request.signal }),
		});
	} catch (error) {
		if (request.signal?.aborted) throw new BatonError(ClientErrorCode.Aborted, `the ${what} request was aborted`);
		throw new BatonError(ClientErrorCode.NetworkError, `the ${what} request failed: ${error instanceof Error ? error.message : String(error)}`);
	}
	const body = await response.json().catch(() => undefined);
	if (!response.ok) {
		const { code, message } = errorBody(body);
		throw new BatonError(code, message ?? `the ${what} request failed with HTTP ${response.status}`, { status: response.status });
	}
	const page = read(body);
	if (page === null) throw new BatonError(ErrorCode.Internal, `the ${what} response is malformed`, { status: response.status });
	return page;
}

function errorBody(body: unknown): { code: ErrorCode; message: string | undefined } {
	const error: unknown = typeof body === "object" && body !== null ? Reflect.get(body, "error") : undefined;
	if (typeof error !== "object" || error === null) return { code: ErrorCode.Internal, message: undefined };
	const code: unknown = Reflect.get(error, "code");
	const message: unknown = Reflect.get(error, "message");
	return { code: isErrorCode(code) ? code : ErrorCode.Internal, message: typeof message === "string" ? message : undefined };
}

function rawPage(body: unknown): RawHistoryPage | null {
	if (typeof body !== "object" || body === null) return null;
	const list: unknown = Reflect.get(body, "messages");
	const seq: unknown = Reflect.get(body, "seq");
	const oldest: unknown = Reflect.get(body, "oldest");
	if (!Array.isArray(list) || !isSeq(seq) || !(oldest === null || isSeq(oldest))) return null;
	const messages: MessageFrame[] = [];
	for (const item of list) {
		const message = messageFrameFrom(item);
		if (message === null) return null;
		messages.push(message);
	}
	return { messages, seq, oldest };
}

function isSeq(value: unknown): value is number {
	return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function badRequest(message: string): BatonError {
	return new BatonError(ErrorCode.BadRequest, `baton: ${message}`);
}
