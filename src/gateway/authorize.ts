/**
 * The gateway's checks for every room route, in the order of CONTRACT.md §9: misconfigured →
 * bad_room → origin_not_allowed → unauthorized → forbidden. (426 and room_full sit outside.)
 */
import { ErrorCode } from "../../protocol/error-codes.ts";
import { isValidRoomName } from "../../protocol/paths.ts";
import type { AccessClaims } from "../core/auth/claims.ts";
import { roomAllowed } from "../core/auth/roles.ts";
import { verifierFor } from "../core/auth/verify.ts";
import type { Config } from "../core/config.ts";
import { originAllowed } from "./origin.ts";
import { findToken } from "./token-lookup.ts";

/** `payload`: every verified claim of the token (for the room's `onConnect`); `claims`: baton's reading of them. */
export type Authorization = { ok: true; claims: AccessClaims; payload: Readonly<Record<string, unknown>> } | { ok: false; code: ErrorCode; message: string };

export async function authorizeRoomRequest(request: Request, url: URL, config: Config, room: string): Promise<Authorization> {
	if (config.misconfigured !== null) return { ok: false, code: ErrorCode.ServerMisconfigured, message: "the server is misconfigured" };
	if (!isValidRoomName(room)) return { ok: false, code: ErrorCode.BadRoom, message: "room names match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$" };
	if (!originAllowed(request, config)) return { ok: false, code: ErrorCode.OriginNotAllowed, message: "origin not allowed" };
	const found = findToken(request, url);
	if (found === null || found.token === "") return { ok: false, code: ErrorCode.Unauthorized, message: "an access token is required" };
	const verified = await verifierFor(config)(found.token);
	if (!verified.ok) return { ok: false, code: ErrorCode.Unauthorized, message: "invalid or expired token" };
	if (!roomAllowed(verified.claims, room)) return { ok: false, code: ErrorCode.Forbidden, message: "the token does not grant this room" };
	return { ok: true, claims: verified.claims, payload: verified.payload };
}
