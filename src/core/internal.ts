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
	/** The log epoch `after` counts in (`?epoch=`, CONTRACT.md §13); null when the client sent none. */
	epoch: string | null;
	/** The gateway's own region (reported in `welcome.region`). */
	region: string;
	/** Home for a room that has none yet (`?region=R` or the gateway's region). */
	homeHint: string;
	/** The client offered `baton.v1`: answer with it. */
	subprotocol: boolean;
	/** The token's verified claims, as the app's `onConnect` sees them (CONTRACT.md §14). */
	claims: Readonly<Record<string, unknown>>;
	/** The gateway's id of the upgrade request (`cf-ray` or a UUID): room log lines about it carry it. */
	requestId: string | null;
}

/**
 * The header's format version. A room and a gateway may run different versions of the code for a
 * while (a gradual deploy pins each object to one), so each side reads the other's previous
 * version: fields added since default when missing, fields it does not know are ignored, and the
 * encoder keeps every field the previous version requires.
 *
 * - 1: no `v`; no `claims`.
 * - 2: `v`, `claims` (the token's verified claims, for the app's `onConnect`).
 * - 3: `requestId`.
 * - 4: `epoch`.
 */
export const CONNECT_INFO_VERSION = 4;

export function encodeConnectInfo(info: ConnectInfo): string {
	return encodeURIComponent(JSON.stringify({ v: CONNECT_INFO_VERSION, ...info }));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses the trusted header (this version or the one before); null if absent or malformed (the room then refuses). */
export function decodeConnectInfo(header: string | null): ConnectInfo | null {
	if (header === null) return null;
	let v: unknown;
	try {
		v = JSON.parse(decodeURIComponent(header));
	} catch {
		return null;
	}
	if (!isRecord(v)) return null;
	const { room, sub, name, exp, region, homeHint } = v;
	if (typeof room !== "string" || typeof sub !== "string" || typeof name !== "string" || typeof exp !== "number") return null;
	if (typeof region !== "string" || typeof homeHint !== "string") return null;
	const mayPublish = v.mayPublish ?? true;
	const resume = v.resume ?? null;
	const after = v.after ?? null;
	const subprotocol = v.subprotocol ?? false;
	const claims = v.claims ?? { sub, name, exp };
	const requestId = v.requestId ?? null;
	const epoch = v.epoch ?? null;
	if (typeof mayPublish !== "boolean" || typeof subprotocol !== "boolean" || !isRecord(claims)) return null;
	if ((resume !== null && typeof resume !== "string") || (after !== null && typeof after !== "number")) return null;
	if ((requestId !== null && typeof requestId !== "string") || (epoch !== null && typeof epoch !== "string")) return null;
	return { room, sub, name, exp, mayPublish, resume, after, epoch, region, homeHint, subprotocol, claims, requestId };
}
