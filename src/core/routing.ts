/**
 * Which Durable Object serves a room. A per-room anchor holds the room's current home and
 * generation; each generation is its own object (`room`, then `room@1`, `room@2`, … after
 * migrations), created with its home as location hint. Gateways cache the anchor's answer per
 * isolate for a few seconds: a stale answer is harmless, because an old home forwards.
 *
 * The core never imports the Durable Objects: stubs are typed by the caller's own bindings
 * (type parameters), so the gateway gets its room class's RPC types and the rooms get theirs.
 */
import { ROUTE_CACHE_TTL_MS } from "./route-cache-ttl.ts";

/** Where a room lives: its home region and object generation. */
export interface RoomTarget {
	home: string;
	gen: number;
}

/** What routing needs of an anchor object: the room's current target. */
export interface RoutingAnchor extends Rpc.DurableObjectBranded {
	resolve(room: string, homeHint: string): Promise<RoomTarget>;
}

/** The bindings routing reads, typed by whoever holds them. */
export interface RoomsBinding<R extends Rpc.DurableObjectBranded | undefined> {
	ROOMS: DurableObjectNamespace<R>;
}
export interface AnchorsBinding<A extends RoutingAnchor> {
	ANCHORS: DurableObjectNamespace<A>;
}

/** The room an object name (from {@link roomObjectName}) belongs to; null for a name that is none. */
export function roomOfObjectName(name: string | undefined): string | null {
	if (name === undefined || name === "") return null;
	const at = name.indexOf("@");
	return at === -1 ? name : name.slice(0, at);
}

/** Object name of generation `gen` of `room` ('@' cannot occur in room names). */
export function roomObjectName(room: string, gen: number): string {
	return gen === 0 ? room : `${room}@${gen}`;
}

export function roomStub<R extends Rpc.DurableObjectBranded | undefined>(env: RoomsBinding<R>, room: string, target: RoomTarget): DurableObjectStub<R> {
	const id = env.ROOMS.idFromName(roomObjectName(room, target.gen));
	return env.ROOMS.get(id, { locationHint: target.home as DurableObjectLocationHint });
}

export function parseRoomTarget(raw: string | null): RoomTarget | null {
	if (raw === null) return null;
	try {
		const v: unknown = JSON.parse(raw);
		if (typeof v !== "object" || v === null) return null;
		const { home, gen } = v as Record<string, unknown>;
		return typeof home === "string" && typeof gen === "number" ? { home, gen } : null;
	} catch {
		return null;
	}
}

/** Anchor answers cached per gateway isolate for ROUTE_CACHE_TTL_MS. */
const routeCache = new Map<string, { target: RoomTarget; until: number }>();
const ROUTE_CACHE_MAX = 10_000;

/** The anchor object of a room: one per room name, so there is no global hot spot. */
export function anchorStub<A extends RoutingAnchor>(env: AnchorsBinding<A>, room: string): DurableObjectStub<A> {
	return env.ANCHORS.get(env.ANCHORS.idFromName(room));
}

/**
 * Resolves a room's current target (creating it, homed at `homeHint`, on first use) and
 * returns its stub. `fresh` skips the cache (after a migration through this gateway).
 */
export async function resolveRoom<R extends Rpc.DurableObjectBranded | undefined, A extends RoutingAnchor>(
	env: RoomsBinding<R> & AnchorsBinding<A>,
	room: string,
	homeHint: string,
	fresh = false,
): Promise<{ stub: DurableObjectStub<R>; target: RoomTarget }> {
	const now = Date.now();
	const cached = fresh ? undefined : routeCache.get(room);
	let target: RoomTarget;
	if (cached !== undefined && cached.until > now) {
		target = cached.target;
	} else {
		target = await anchorStub(env, room).resolve(room, homeHint);
		if (routeCache.size >= ROUTE_CACHE_MAX) routeCache.clear();
		routeCache.set(room, { target, until: now + ROUTE_CACHE_TTL_MS });
	}
	return { stub: roomStub(env, room, target), target };
}

/** Drops a cached route (after this gateway migrated the room). */
export function forgetRoute(room: string): void {
	routeCache.delete(room);
}
