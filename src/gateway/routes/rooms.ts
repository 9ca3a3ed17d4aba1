/** Room routes: the WebSocket upgrade, room info, history and HTTP publish (CONTRACT.md §3). */

import type { Context } from "hono";
import { Hono } from "hono";
import { ErrorCode, isErrorCode } from "../../../protocol/error-codes.ts";
import { jsonDepthExceeds, MAX_DATA_DEPTH } from "../../../protocol/json-depth.ts";
import { isValidClientId } from "../../../protocol/messages.ts";
import { EPOCH_PATTERN, QueryParam } from "../../../protocol/paths.ts";
import { mayPublish } from "../../core/auth/roles.ts";
import { isRegion } from "../../core/config.ts";
import { errorResponse, publishRefusal, RETRY_IN_HEADER } from "../../core/http-errors.ts";
import { CONNECT_HEADER, type ConnectInfo, encodeConnectInfo } from "../../core/internal.ts";
import { decodePresenceCursor } from "../../core/presence-cursor.ts";
import { resolveRoom } from "../../core/routing.ts";
import { type Authorization, authorizeRoomRequest } from "../authorize.ts";
import { gatewayBindings } from "../bindings.ts";
import { readBodyCapped } from "../body.ts";
import type { GatewayEnv } from "../context.ts";
import { parseNonNegativeInt } from "../params.ts";
import { refuseUpgrade } from "../refuse-upgrade.ts";
import { viewHistory, viewInfo, viewPresence } from "../room-views.ts";
import { offersBatonProtocol } from "../token-lookup.ts";

export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 500;
export const DEFAULT_PRESENCE_LIMIT = 100;
export const MAX_PRESENCE_LIMIT = 1000;

export const rooms = new Hono<GatewayEnv>();

type Ctx = Context<GatewayEnv>;

function authorize(c: Ctx): Promise<Authorization> {
	return authorizeRoomRequest(c.req.raw, new URL(c.req.url), c.get("config"), c.req.param("room") ?? "");
}

function refusal(auth: Extract<Authorization, { ok: false }>): Response {
	return errorResponse(auth.code, auth.message);
}

rooms.get("/v1/rooms/:room/ws", async (c) => {
	const request = c.req.raw;
	if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
		return errorResponse(ErrorCode.UpgradeRequired, "this route needs Upgrade: websocket");
	}
	const room = c.req.param("room");
	const subprotocol = offersBatonProtocol(request);
	const auth = await authorize(c);
	if (!auth.ok) return refuseUpgrade(auth.code, { subprotocol, room });

	const url = new URL(c.req.url);
	const config = c.get("config");
	const after = parseNonNegativeInt(url.searchParams.get(QueryParam.After));
	const regionParam = url.searchParams.get(QueryParam.Region);
	const epochParam = url.searchParams.get(QueryParam.Epoch);
	const epoch = epochParam === null || epochParam === "" ? null : epochParam;
	if (
		after === "invalid" ||
		(regionParam !== null && (!isRegion(regionParam) || !config.regions.includes(regionParam))) ||
		(epoch !== null && !EPOCH_PATTERN.test(epoch))
	) {
		return refuseUpgrade(ErrorCode.BadRequest, { subprotocol, room });
	}
	const resumeToken = url.searchParams.get(QueryParam.Resume);
	// The anchor decides the home (the first request to reach it wins); the room is told that
	// home, never this request's own hint, so that the two cannot disagree.
	const { stub, target } = await resolveRoom(gatewayBindings(c.env), room, regionParam ?? c.get("region"));
	const info: ConnectInfo = {
		room,
		sub: auth.claims.sub,
		name: auth.claims.name,
		exp: auth.claims.exp,
		mayPublish: mayPublish(auth.claims, room),
		resume: resumeToken === "" ? null : resumeToken,
		after,
		epoch,
		region: c.get("region"),
		requestId: c.get("requestId"),
		homeHint: target.home,
		subprotocol,
		// Every claim of the token (an app reads its own, such as `banned` or `role`), baton's normalized ones on top.
		claims: { ...auth.payload, ...auth.claims },
	};
	const forwarded = new Request("https://room.internal/connect", {
		headers: { Upgrade: "websocket", [CONNECT_HEADER]: encodeConnectInfo(info) },
	});
	const response = await stub.fetch(forwarded);
	if (response.status === 101 && response.webSocket) return response;
	// The room refused (ban, full, …): turn its JSON error into a completed-and-closed upgrade.
	const body = (await response.json().catch(() => null)) as { error?: { code?: unknown } } | null;
	const code = isErrorCode(body?.error?.code) ? body.error.code : ErrorCode.Internal;
	const retryIn = Number(response.headers.get(RETRY_IN_HEADER) ?? Number.NaN);
	return refuseUpgrade(code, { subprotocol, room, ...(Number.isFinite(retryIn) ? { retryIn } : {}) });
});

rooms.get("/v1/rooms/:room", async (c) => {
	const auth = await authorize(c);
	if (!auth.ok) return refusal(auth);
	const room = c.req.param("room");
	const { stub } = await resolveRoom(gatewayBindings(c.env), room, c.get("region"));
	const answer = await viewInfo(stub, room, auth.claims.sub);
	return answer.ok ? c.json(answer.value) : errorResponse(answer.code, answer.message);
});

rooms.get("/v1/rooms/:room/presence", async (c) => {
	const auth = await authorize(c);
	if (!auth.ok) return refusal(auth);
	const cursor = c.req.query(QueryParam.Cursor) ?? null;
	const after = cursor === null ? null : decodePresenceCursor(cursor);
	const limit = parseNonNegativeInt(c.req.query(QueryParam.Limit) ?? null);
	if ((cursor !== null && after === null) || limit === "invalid" || limit === 0) {
		return errorResponse(ErrorCode.BadRequest, "cursor must be the next of an earlier page and limit an integer ≥ 1");
	}
	const room = c.req.param("room");
	const { stub } = await resolveRoom(gatewayBindings(c.env), room, c.get("region"));
	const page = await viewPresence(stub, room, after, Math.min(limit ?? DEFAULT_PRESENCE_LIMIT, MAX_PRESENCE_LIMIT), auth.claims.sub);
	return page.ok ? c.json(page.value) : errorResponse(page.code, page.message);
});

rooms.get("/v1/rooms/:room/messages", async (c) => {
	const auth = await authorize(c);
	if (!auth.ok) return refusal(auth);
	const after = parseNonNegativeInt(c.req.query(QueryParam.After) ?? null);
	const limit = parseNonNegativeInt(c.req.query(QueryParam.Limit) ?? null);
	if (after === "invalid" || limit === "invalid" || limit === 0) {
		return errorResponse(ErrorCode.BadRequest, "after must be an integer ≥ 0 and limit an integer ≥ 1");
	}
	const room = c.req.param("room");
	const { stub } = await resolveRoom(gatewayBindings(c.env), room, c.get("region"));
	const page = await viewHistory(stub, room, after ?? 0, Math.min(limit ?? DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT), auth.claims.sub);
	// The room answers the page's JSON text (a HistoryPage): passed on as it is.
	return page.ok ? c.body(page.value, 200, { "Content-Type": "application/json" }) : errorResponse(page.code, page.message);
});

rooms.post("/v1/rooms/:room/messages", async (c) => {
	const auth = await authorize(c);
	if (!auth.ok) return refusal(auth);
	const room = c.req.param("room");
	if (!mayPublish(auth.claims, room)) return errorResponse(ErrorCode.Forbidden, "the token may not publish in this room");
	const config = c.get("config");
	const read = await readBodyCapped(c.req.raw, config.maxMessageBytes);
	if (!read.ok) return errorResponse(ErrorCode.TooLarge, `the body is over ${config.maxMessageBytes} bytes`);
	let body: unknown;
	try {
		body = JSON.parse(read.text);
	} catch {
		return errorResponse(ErrorCode.BadRequest, "the body must be JSON");
	}
	if (typeof body !== "object" || body === null || Array.isArray(body)) return errorResponse(ErrorCode.BadRequest, "the body must be a JSON object");
	const { data, id } = body as { data?: unknown; id?: unknown };
	if (data === undefined) return errorResponse(ErrorCode.BadRequest, "the body needs data");
	if (jsonDepthExceeds(data, MAX_DATA_DEPTH)) return errorResponse(ErrorCode.BadRequest, `data nests deeper than ${MAX_DATA_DEPTH} levels`);
	if (id !== undefined && !isValidClientId(id)) return errorResponse(ErrorCode.BadRequest, "id must be a string of 1-64 characters");
	const { stub, target } = await resolveRoom(gatewayBindings(c.env), room, c.get("region"));
	const result = await stub.publish(room, auth.claims.sub, id ?? null, data, target.home);
	if (!result.ok) return publishRefusal(result);
	return c.json({ seq: result.seq }, 200, { "X-Baton-Dup": String(result.dup) });
});
