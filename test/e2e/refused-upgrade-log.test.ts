/**
 * Finding 12: a refused upgrade (§3 "Refusing an upgrade": the gateway completes the handshake and
 * closes at once) must not make the runtime log `Uncaught Error: Network connection lost.`
 *
 * Reproduced with the previous toolchain (wrangler 4.86, workerd 1.20260426): one such line per
 * refused upgrade whose client sent no frame before the close — a plain client, one that closes
 * or drops as soon as it opens, the SDK — and none for a client that sent a frame first. It came
 * from the runtime, not from `refuseUpgrade`: listeners on the server end, keeping the request
 * alive until the close (`waitUntil`), or closing a tick later did not change it, and the same
 * code on workerd 1.20261102 (wrangler 4.164) logs nothing. This test keeps it that way, for
 * every kind of refusal (gateway and room) and every way a client can take it.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connect } from "../../client/index.ts";
import { CloseCode } from "../../protocol/close-codes.ts";
import { mintToken, uniqueRoom } from "./harness/client.ts";
import { DevServer } from "./harness/server.ts";

const LOST = "Network connection lost";

/** Opens a socket, does `onOpen` with it, resolves with the close code the client saw. */
function refusedWith(url: string, onOpen: (ws: WebSocket) => void = () => {}): Promise<number> {
	return new Promise((resolve) => {
		const ws = new WebSocket(url, ["baton.v1"]);
		ws.on("open", () => onOpen(ws));
		ws.on("close", (code) => resolve(code));
		ws.on("error", () => {
			// The close that follows says what happened.
		});
	});
}

describe("finding 12: refused upgrades log no runtime error", () => {
	let server: DevServer;
	beforeAll(async () => {
		// One connection per room fills it, so the room itself refuses too (room_full).
		server = await DevServer.start({ vars: { MAX_CONNECTIONS_PER_ROOM: "1" } });
	});
	afterAll(async () => {
		await server?.stop();
	});

	it("no `Network connection lost` for refusals by the gateway and the room, whatever the client does", async () => {
		const room = uniqueRoom("refused");
		const token = await mintToken("alice", [room]);
		const base = `${server.wsUrl}/v1/rooms/${encodeURIComponent(room)}/ws`;
		const badToken = `${base}?token=not-a-jwt`;
		const held = new WebSocket(`${base}?token=${token}`, ["baton.v1"]);
		await new Promise<void>((resolve) => held.once("message", () => resolve()));
		const full = `${base}?token=${token}`;
		const outputBefore = server.output.length;

		const seen: number[] = [];
		for (const url of [badToken, full]) {
			seen.push(await refusedWith(url));
			seen.push(await refusedWith(url, (ws) => ws.close(1000)));
			seen.push(await refusedWith(url, (ws) => ws.terminate()));
			seen.push(await refusedWith(url, (ws) => ws.send("ping")));
		}
		seen.push(await refusedWith(`${server.wsUrl}/v1/rooms/-bad-/ws?token=${token}`));
		// The SDK: a fixed token that is refused stops at once (4001).
		const sdk = connect({ url: server.url, room, token: "not-a-jwt", WebSocket: WebSocket as never });
		seen.push(await new Promise<number>((resolve) => sdk.on("close", (e) => resolve(e.code))));
		sdk.close();

		expect(seen.slice(0, 4).every((c) => c === CloseCode.Unauthorized || c === 1006)).toBe(true);
		expect(seen[0]).toBe(CloseCode.Unauthorized);
		expect(seen[4]).toBe(CloseCode.TryAgainLater);
		expect(seen.at(-2)).toBe(CloseCode.BadRequest);
		expect(seen.at(-1)).toBe(CloseCode.Unauthorized);

		// The runtime logged its error right after the refused request's own lines: refuse three
		// more upgrades and wait for their log lines, so everything before has been printed.
		for (let i = 0; i < 3; i++) {
			const marker = uniqueRoom("marker");
			await refusedWith(`${server.wsUrl}/v1/rooms/${marker}/ws?token=not-a-jwt`);
			await server.waitForLog((l) => l.event === "upgrade_refused" && l.room === marker, 10_000, `the refusal of ${marker}`);
		}
		const output = server.output.slice(outputBefore);
		expect(output.match(/upgrade_refused/g)?.length ?? 0).toBeGreaterThanOrEqual(12);
		expect(output.includes(LOST), `runtime output:\n${output.slice(-3000)}`).toBe(false);
		held.close();
	});
});
