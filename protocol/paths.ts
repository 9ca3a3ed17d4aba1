/** Public HTTP paths and query parameters (CONTRACT.md §3, §5). */
export const ROOM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** True when `name` is a valid room name. */
export function isValidRoomName(name: string): boolean {
	return ROOM_NAME_PATTERN.test(name);
}

/** Query parameters of the WebSocket connect route. */
export const QueryParam = {
	Token: "token",
	Resume: "resume",
	After: "after",
	Region: "region",
	Limit: "limit",
	/** `GET /v1/rooms/:room/presence`: the `next` of the page before. */
	Cursor: "cursor",
	/** The log epoch the client's `after` counts in (`welcome.epoch`, CONTRACT.md §13). */
	Epoch: "epoch",
} as const;

/** What `?epoch=` may hold: an epoch the room issued is 22 base64url characters; anything else is refused. */
export const EPOCH_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Path of a room's WebSocket route, relative to a gateway base URL. */
export function roomSocketPath(room: string): string {
	return `/v1/rooms/${encodeURIComponent(room)}/ws`;
}

/** Path of a room's history / HTTP publish route. */
export function roomMessagesPath(room: string): string {
	return `/v1/rooms/${encodeURIComponent(room)}/messages`;
}

/** Path of a room's presence list (CONTRACT.md §12). */
export function roomPresencePath(room: string): string {
	return `/v1/rooms/${encodeURIComponent(room)}/presence`;
}
