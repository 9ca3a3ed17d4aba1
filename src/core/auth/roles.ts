/**
 * What a token grants in a room (CONTRACT.md §4, §11): the `rooms` claim decides who may join,
 * the `publish` claim (same syntax) who may publish. Patterns are exact room names or prefixes
 * ending in `*`. Pure: the gateway and the room decide with these and nothing else.
 */
import type { AccessClaims } from "./claims.ts";

function matches(patterns: readonly string[], room: string): boolean {
	for (const pattern of patterns) {
		if (pattern.endsWith("*") ? room.startsWith(pattern.slice(0, -1)) : pattern === room) return true;
	}
	return false;
}

/** True when `room` is granted by the `rooms` claim (absent = no room). */
export function roomAllowed(claims: Pick<AccessClaims, "rooms">, room: string): boolean {
	return matches(claims.rooms ?? [], room);
}

/** True when the token may publish in `room`: it must grant the room, and match `publish` when that claim is present. */
export function mayPublish(claims: Pick<AccessClaims, "rooms" | "publish">, room: string): boolean {
	return roomAllowed(claims, room) && (claims.publish === undefined || matches(claims.publish, room));
}
