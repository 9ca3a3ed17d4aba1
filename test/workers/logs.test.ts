/**
 * Room log lines name their room from the first line on: a new room's `room_wake` knows no stored
 * name yet and takes it from the object's own name (docs/deploy.md, "Logs").
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { join, leaveRoom, uniqueRoom } from "./helpers.ts";

function logLines(spy: { mock: { calls: unknown[][] } }): Array<Record<string, unknown>> {
	return spy.mock.calls.flatMap((args) => {
		try {
			const v: unknown = JSON.parse(String(args[0]));
			return typeof v === "object" && v !== null ? [v as Record<string, unknown>] : [];
		} catch {
			return [];
		}
	});
}

describe("room log lines", () => {
	afterEach(() => vi.restoreAllMocks());

	it("a new room's first room_wake names the room, and its connect line carries the upgrade's request id", async () => {
		const spy = vi.spyOn(console, "log").mockImplementation(() => {});
		const room = uniqueRoom("logs");
		const { socket } = await join(room, "ada");
		const wake = logLines(spy).find((l) => l.event === "room_wake");
		expect(wake).toMatchObject({ event: "room_wake", room });
		// The upgrade's request id (the gateway's, handed to the room) is on the room's connect line.
		const connect = logLines(spy).find((l) => l.event === "connect");
		expect(connect).toMatchObject({ room, requestId: expect.stringMatching(/.+/) });
		await leaveRoom(room, socket);
	});
});
