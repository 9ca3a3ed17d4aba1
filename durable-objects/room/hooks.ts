/**
 * The app's hooks on a room (CONTRACT.md §14): their arguments, what they may return, and the one
 * way the room calls them — bounded in time, never trusted to settle or not to throw. A hook only
 * decides; baton keeps every invariant (dedupe, order, durability, close codes) around it.
 */
import { isAppErrorCode } from "../../protocol/error-codes.ts";
import { log } from "../../src/core/log.ts";

/** How long a hook may take before the room stops waiting for it (ms). */
export const HOOK_TIMEOUT_MS = 5_000;

/**
 * Where a publish came from: a client socket, the HTTP route, or the app's own `roomClient`.
 *
 * @example
 * if (msg.source === "server") return; // trust the app's own publishes as they are
 */
export type PublishSource = "socket" | "http" | "server";

/**
 * What `onConnect` is told about an authenticated upgrade.
 *
 * @example
 * override onConnect(conn: ConnectingClient) {
 *   if (!Array.isArray(conn.claims.rooms)) return { reject: { code: "no_rooms", message: "token without rooms" } };
 * }
 */
export interface ConnectingClient {
	/** The room's name. */
	room: string;
	/** The token's `sub`. */
	sub: string;
	/** The display name (the token's `name`, else its `sub`). */
	name: string;
	/** The token's verified claims. */
	claims: Readonly<Record<string, unknown>>;
}

/**
 * What `onPublish` is told about a publish that passed dedupe, the freeze, the rate limit and the
 * publish claim.
 *
 * @example
 * override onPublish(msg: PublishingMessage) {
 *   console.log(JSON.stringify({ event: "publish", room: msg.room, sub: msg.sub, id: msg.id, source: msg.source }));
 * }
 */
export interface PublishingMessage {
	room: string;
	/** The publisher: the token's `sub` (socket, HTTP) or the `from` of `roomClient().publish`. */
	sub: string;
	/** The publish's id (its dedupe key with the publisher). */
	id: string;
	/** The data as sent. */
	data: unknown;
	source: PublishSource;
}

/**
 * A member of the room's presence, as `onJoin` / `onLeave` get it.
 *
 * @example
 * override onJoin(entry: PresenceMember) { this.ctx.storage.sql.exec("INSERT INTO joins (sub, name) VALUES (?, ?)", entry.sub, entry.name); }
 */
export interface PresenceMember {
	sub: string;
	name: string;
}

/**
 * Refuses what the hook was asked about: `code` is snake_case (at most 64 characters; not
 * `rate_limited` or `room_moving`, which the SDK retries on), `message` human text.
 *
 * @example
 * return { reject: { code: "invalid", message: "text required" } };
 */
export interface HookRejection {
	reject: { code: string; message: string };
}

/**
 * `onConnect`'s answer: nothing admits; a rejection closes the upgrade with 4003 `forbidden`.
 *
 * @example
 * override async onConnect(conn: ConnectingClient): Promise<ConnectDecision> {
 *   if (conn.sub.startsWith("guest-")) return { reject: { code: "guests_closed", message: "no guests today" } };
 * }
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook without a return statement returns void, and must fit
export type ConnectDecision = void | HookRejection;

/**
 * `onPublish`'s answer: nothing stores the data as sent; `{ data }` stores that instead; a
 * rejection refuses (error frame / HTTP 422); nothing is stored then.
 *
 * @example
 * override async onPublish(msg: PublishingMessage): Promise<PublishDecision> {
 *   return { data: { text: String((msg.data as { text?: unknown }).text ?? "").slice(0, 500) } };
 * }
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook without a return statement returns void, and must fit
export type PublishDecision = void | { data: unknown } | HookRejection;

export type HookOutcome<T> = { ok: true; value: T } | { ok: false; reason: "threw" | "timeout" };

/**
 * Calls `hook`, waiting at most `timeoutMs`. A throw, a rejection or a timeout is logged (with
 * the error's message, never its stack or the data) and reported as a failure; a hook that
 * times out keeps running, but nothing waits for it any more.
 */
export async function runHook<T>(name: string, room: string, timeoutMs: number, hook: () => T | Promise<T>): Promise<HookOutcome<T>> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timeout = new Promise<HookOutcome<T>>((resolve) => {
		timer = setTimeout(() => resolve({ ok: false, reason: "timeout" }), timeoutMs);
	});
	const run = (async (): Promise<HookOutcome<T>> => ({ ok: true, value: await hook() }))().catch((error: unknown) => {
		log.warn("hook_failed", { room, hook: name, reason: "threw", error: error instanceof Error ? error.message : String(error) });
		return { ok: false, reason: "threw" } as const;
	});
	const outcome = await Promise.race([run, timeout]);
	if (timer !== undefined) clearTimeout(timer);
	if (!outcome.ok && outcome.reason === "timeout") log.warn("hook_failed", { room, hook: name, reason: "timeout", timeoutMs });
	return outcome;
}

/** The rejection a hook returned, if it returned a well-formed one. */
export function rejectionOf(value: unknown): HookRejection["reject"] | null {
	if (typeof value !== "object" || value === null || !("reject" in value)) return null;
	const reject: unknown = value.reject;
	if (typeof reject !== "object" || reject === null) return null;
	const code: unknown = Reflect.get(reject, "code");
	const message: unknown = Reflect.get(reject, "message");
	return typeof code === "string" && typeof message === "string" ? { code, message } : null;
}

/** Why a hook's answer cannot be used as given, or null when it can. */
export function badRejection(reject: HookRejection["reject"]): string | null {
	if (!isAppErrorCode(reject.code)) return "reject.code must be snake_case (a-z, 0-9, _), at most 64 characters, and not one the SDK retries on";
	return null;
}
