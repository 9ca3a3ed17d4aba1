/**
 * The gateway → room contract. The gateway authenticates, then forwards the upgrade to the room
 * with one trusted header it sets itself (any client-sent copy is dropped first).
 */
export const CONNECT_HEADER = "x-baton-connect";

/** Everything the room needs to know about an authenticated upgrade. */
export interface ConnectInfo {
	room: string;
	sub: string;
	name: string;
	/** Access token expiry, seconds since epoch. */
	exp: number;
	/** The token may publish in this room (CONTRACT.md §11 `publish` claim). */
	mayPublish: boolean;
	/** The resume token the client sent, unchecked: the room holds the key that signs it. */
	resume: string | null;
	/** Replay messages with seq > after; null = no replay requested. */
	after: number | null;
	/** The gateway's own region (reported in `welcome.region`). */
	region: string;
	/** Home for a room that has none yet (`?region=R` or the gateway's region). */
	homeHint: string;
	/** The client offered `baton.v1`: answer with it. */
	subprotocol: boolean;
}

export function encodeConnectInfo(info: ConnectInfo): string {
	return encodeURIComponent(JSON.stringify(info));
}

/** Parses the trusted header; null if absent or malformed (the room then refuses the request). */
export function decodeConnectInfo(header: string | null): ConnectInfo | null {
	if (header === null) return null;
	try {
		const v: unknown = JSON.parse(decodeURIComponent(header));
		if (typeof v !== "object" || v === null) return null;
		const r = v as Record<string, unknown>;
		if (
			typeof r.room !== "string" ||
			typeof r.sub !== "string" ||
			typeof r.name !== "string" ||
			typeof r.exp !== "number" ||
			typeof r.mayPublish !== "boolean" ||
			(r.resume !== null && typeof r.resume !== "string") ||
			(r.after !== null && typeof r.after !== "number") ||
			typeof r.region !== "string" ||
			typeof r.homeHint !== "string" ||
			typeof r.subprotocol !== "boolean"
		) {
			return null;
		}
		return {
			room: r.room,
			sub: r.sub,
			name: r.name,
			exp: r.exp,
			mayPublish: r.mayPublish,
			resume: r.resume,
			after: r.after,
			region: r.region,
			homeHint: r.homeHint,
			subprotocol: r.subprotocol,
		};
	} catch {
		return null;
	}
}
