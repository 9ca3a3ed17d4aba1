/**
 * Where the gateway finds an access token (CONTRACT.md §4, §9): the Authorization header, then
 * the `token` query parameter, then a `baton.auth.<jwt>` subprotocol. The first place that holds
 * a token is the only one used: a bad header token never falls through to `?token=`.
 */
import { AUTH_PROTOCOL_PREFIX, PROTOCOL } from "../../protocol/messages.ts";
import { QueryParam } from "../../protocol/paths.ts";

export type TokenPlace = "header" | "query" | "subprotocol";

/** The token found, `""` when the place holds something that is not a token, or null if none. */
export function findToken(request: Request, url: URL): { place: TokenPlace; token: string } | null {
	const header = request.headers.get("Authorization");
	if (header !== null) {
		const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
		return { place: "header", token: match?.[1] ?? "" };
	}
	const query = url.searchParams.get(QueryParam.Token);
	if (query !== null) return { place: "query", token: query };
	const offered = offeredProtocols(request);
	const auth = offered.find((p) => p.startsWith(AUTH_PROTOCOL_PREFIX));
	if (auth !== undefined) return { place: "subprotocol", token: auth.slice(AUTH_PROTOCOL_PREFIX.length) };
	return null;
}

/** Subprotocols the client offered. */
export function offeredProtocols(request: Request): string[] {
	return (request.headers.get("Sec-WebSocket-Protocol") ?? "")
		.split(",")
		.map((p) => p.trim())
		.filter((p) => p !== "");
}

/** The client offered `baton.v1`, so the answer must name it. */
export function offersBatonProtocol(request: Request): boolean {
	return offeredProtocols(request).includes(PROTOCOL);
}
