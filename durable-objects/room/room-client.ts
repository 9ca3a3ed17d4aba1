/**
 * The app's own Worker code talking to a room (CONTRACT.md §14): publish into it, or get its
 * current Durable Object stub to call the app's RPC methods. Routed like every gateway request:
 * the room's anchor names its home (cached per isolate for a few seconds), and a stale answer is
 * harmless because an old home forwards.
 */
import { env as workerEnv } from "cloudflare:workers";
import { isValidRoomName } from "../../protocol/paths.ts";
import { BindingName, configEnv, namespaceOf } from "../../src/core/bindings.ts";
import { readConfig } from "../../src/core/config.ts";
import { type RoutingAnchor, resolveRoom } from "../../src/core/routing.ts";
import type { BatonRoom } from "./baton-room.ts";
import { SERVER_PUBLISH_VERSION, type ServerPublishRequest } from "./server-publish.ts";

/**
 * Options of {@link RoomClient.publish}.
 *
 * @example
 * await roomClient(env.ROOMS, "lobby").publish({ text: "hi" }, { id: `digest-${day}`, from: "digest-bot" });
 */
export interface ServerPublishOptions {
	/** Dedupe key (1–64 characters): a second publish with the same `from` and `id` is not stored again. */
	id?: string;
	/** The publisher, as `from` in the message and `sub` in `onPublish` (1–128 characters; default `"server"`). */
	from?: string;
}

/**
 * What {@link RoomClient.publish} resolves to: the message's seq, and whether it was a duplicate.
 *
 * @example
 * const { seq, dup } = await roomClient(env.ROOMS, "lobby").publish(data, { id });
 */
export interface ServerPublishResult {
	seq: number;
	dup: boolean;
}

/**
 * A publish the room did not store: `code` is baton's (`room_moving`, `bad_request`, `internal`)
 * or, with `rejected`, the one the app's `onPublish` rejected it with.
 *
 * @example
 * try { await roomClient(env.ROOMS, room).publish(data); } catch (e) { if (e instanceof RoomPublishError && e.code === "room_moving") retryLater(); }
 */
export class RoomPublishError extends Error {
	override readonly name = "RoomPublishError";

	constructor(
		readonly code: string,
		message: string,
		/** True when the room's `onPublish` rejected it. */
		readonly rejected: boolean,
	) {
		super(message);
	}
}

/**
 * A handle on one room for the app's own Worker code (see {@link roomClient}).
 *
 * @example
 * const lobby: RoomClient<ChatRoom> = roomClient(env.ROOMS, "lobby");
 */
export interface RoomClient<R extends BatonRoom<unknown>> {
	/**
	 * Publishes `data` into the room as the server (`source: "server"` in `onPublish`); rejects
	 * with a {@link RoomPublishError} when the room does not store it.
	 */
	publish(data: unknown, options?: ServerPublishOptions): Promise<ServerPublishResult>;
	/**
	 * The room's Durable Object stub at its current home, for the app's own RPC methods. Each call
	 * asks the room's anchor (one small RPC): get a stub per operation, since a migration moves
	 * the room away from a stub held across it.
	 */
	stub(): Promise<DurableObjectStub<R>>;
}

/**
 * Options of {@link roomClient}.
 *
 * @example
 * roomClient(env.ROOMS, "poll-7", { anchors: env.ANCHORS, homeHint: "weur" });
 */
export interface RoomClientOptions {
	/** The anchor namespace (default: the Worker's `ANCHORS` binding). */
	anchors?: DurableObjectNamespace<RoutingAnchor>;
	/** Home of a room that does not exist yet (default: BATON_REGION, else the first of BATON_REGIONS). */
	homeHint?: string;
}

/**
 * A handle on one room, from any Worker code holding the room binding.
 *
 * @example
 * import { roomClient } from "baton-rooms/server";
 *
 * // in a Worker fetch handler, a cron, a queue consumer…
 * const { seq, dup } = await roomClient(env.ROOMS, "lobby").publish({ text: "results are in" }, { id: "results-42", from: "bot" });
 * const votes = await (await roomClient(env.ROOMS, "poll-1").stub()).tally();
 */
export function roomClient<R extends BatonRoom<unknown>>(rooms: DurableObjectNamespace<R>, room: string, options: RoomClientOptions = {}): RoomClient<R> {
	if (!isValidRoomName(room)) throw new TypeError(`bad room name ${JSON.stringify(room)}: room names match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`);
	const resolve = (fresh: boolean) => {
		const anchors = options.anchors ?? namespaceOf<RoutingAnchor>(workerEnv, BindingName.Anchors);
		const config = readConfig(configEnv(workerEnv));
		const homeHint = options.homeHint ?? config.region ?? config.regions[0] ?? "wnam";
		return resolveRoom({ ROOMS: rooms, ANCHORS: anchors }, room, homeHint, fresh);
	};
	return {
		async publish(data, publishOptions = {}) {
			// A cached route is fine here: an old home forwards baton's own calls.
			const { stub, target } = await resolve(false);
			const request: ServerPublishRequest = { v: SERVER_PUBLISH_VERSION, data, home: target.home, ...publishOptions };
			const result = await stub.serverPublish(room, request);
			if (result.ok) return { seq: result.seq, dup: result.dup };
			throw new RoomPublishError(result.code, result.message ?? result.code, "rejected" in result);
		},
		async stub() {
			// Asked afresh: an old home cannot forward the app's own methods, and it is wiped once moved.
			return (await resolve(true)).stub;
		},
	};
}
