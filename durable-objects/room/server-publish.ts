/**
 * A publish from the app's own Worker code (`roomClient(env.ROOMS, room).publish`, CONTRACT.md
 * §14), as it travels over RPC to the room. An object, versioned like the connect header: fields
 * added later default when missing, fields the room does not know are ignored.
 */
import { jsonDepthExceeds, MAX_DATA_DEPTH } from "../../protocol/json-depth.ts";
import { isValidClientId } from "../../protocol/messages.ts";
import { isValidSub } from "../../src/core/auth/claims.ts";

/** `from` of a server publish that names none. */
export const SERVER_SENDER = "server";

export const SERVER_PUBLISH_VERSION = 1;

export interface ServerPublishRequest {
	v: number;
	data: unknown;
	/** Dedupe key with `from`; without one every publish is new. */
	id?: string;
	/** The publisher, as `from` in the message (default {@link SERVER_SENDER}). */
	from?: string;
	/** The room's home as the anchor answered it (a room first reached this way records it). */
	home?: string;
}

export interface ServerPublish {
	data: unknown;
	id: string | null;
	from: string;
}

/** Reads a request of this version or the one before; a string says what is wrong with it. */
export function readServerPublish(request: unknown, maxMessageBytes: number): ServerPublish | string {
	if (typeof request !== "object" || request === null) return "the request must be an object";
	const data: unknown = Reflect.get(request, "data");
	const id: unknown = Reflect.get(request, "id") ?? null;
	const from: unknown = Reflect.get(request, "from") ?? SERVER_SENDER;
	if (data === undefined) return "data is required";
	// Nothing this deep is stored (CONTRACT.md §13): history and replay could not serialize it back.
	if (jsonDepthExceeds(data, MAX_DATA_DEPTH)) return `data nests deeper than ${MAX_DATA_DEPTH} levels`;
	if (id !== null && !isValidClientId(id)) return "id must be a string of 1-64 characters";
	if (!isValidSub(from)) return "from must be a string of 1-128 characters";
	let text: string | undefined;
	try {
		text = JSON.stringify(data);
	} catch {
		text = undefined;
	}
	if (text === undefined) return "data must be JSON";
	if (new TextEncoder().encode(text).length > maxMessageBytes) return `data is over ${maxMessageBytes} bytes`;
	return { data: JSON.parse(text) as unknown, id, from };
}
