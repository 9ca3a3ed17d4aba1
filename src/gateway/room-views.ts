/**
 * The room's read routes as a viewer (the token's `sub`) sees them: the room refuses a banned
 * viewer (CONTRACT.md §13). A room still on the previous version (a gradual deploy pins each
 * object to one version) has no `view*` methods: it is asked the previous way, without the ban
 * check it did not have, so the route keeps answering during the deploy.
 */
import type { BatonRoom } from "../../durable-objects/room/baton-room.ts";
import type { PresencePage, RoomAnswer, RoomInfo } from "../../durable-objects/room/types.ts";

type RoomStub = DurableObjectStub<BatonRoom<unknown>>;

/** The runtime's answer to a method the object does not have (the previous version's room). */
function isMissingMethod(error: unknown): boolean {
	return error instanceof Error && /does not implement|not a function|no such method/i.test(error.message);
}

async function withPrevious<T>(current: () => Promise<T>, previous: () => Promise<T>): Promise<T> {
	try {
		return await current();
	} catch (error) {
		if (isMissingMethod(error)) return previous();
		throw error;
	}
}

export function viewInfo(stub: RoomStub, room: string, viewer: string): Promise<RoomAnswer<RoomInfo>> {
	return withPrevious(
		async () => await stub.viewInfo(room, viewer),
		async () => ({ ok: true, value: await stub.info(room) }),
	);
}

export function viewPresence(stub: RoomStub, room: string, after: string | null, limit: number, viewer: string): Promise<RoomAnswer<PresencePage>> {
	return withPrevious(
		async () => await stub.viewPresence(room, after, limit, viewer),
		async () => ({ ok: true, value: await stub.presencePage(room, after, limit) }),
	);
}

/** The history page as JSON text (the room builds it so; reports.ts says why). */
export function viewHistory(stub: RoomStub, room: string, after: number, limit: number, viewer: string): Promise<RoomAnswer<string>> {
	return withPrevious(
		async () => await stub.viewHistory(room, after, limit, viewer),
		async () => ({ ok: true, value: JSON.stringify(await stub.history(room, after, limit)) }),
	);
}
