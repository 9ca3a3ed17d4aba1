/**
 * One home per room (CONTRACT.md §8): the region a room reports (`welcome.home`, `GET
 * /v1/rooms/:room`) is the one its anchor routes by and migrates from — set by whichever request
 * reached the anchor first. Found by the chaos soak (`npm run chaos -- --seed 1`): first requests
 * through different gateways homed the anchor in one region and the room object in another, so
 * a migration to the home the room reported answered 409 already_there.
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { admin, api, expectErrorResponse, join, leaveRoom, muteInfoLogs, tokenFor, uniqueRoom } from "./helpers.ts";

muteInfoLogs();

const migrate = (room: string, to: string) => admin(`/rooms/${encodeURIComponent(room)}/migrate`, { body: { to } });

async function reportedHome(room: string, token: string): Promise<string> {
	const res = await api(`/v1/rooms/${encodeURIComponent(room)}`, { token });
	expect(res.status, await res.clone().text()).toBe(200);
	return ((await res.json()) as { home: string }).home;
}

describe("a room's reported home is its anchor's", () => {
	it("a connect with ?region=R after another request homed the room reports that home, the one a migration starts from", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room, "alice");
		// The first request to reach the anchor homes the room in this gateway's region (wnam).
		expect(await reportedHome(room, token)).toBe("wnam");
		const { socket, welcome } = await join(room, "alice", { region: "apac" });
		expect(welcome.home).toBe("wnam");
		expect(await reportedHome(room, token)).toBe("wnam");
		await expectErrorResponse(await migrate(room, "wnam"), 409, ErrorCode.AlreadyThere);
		await leaveRoom(room, socket);
	});

	it("a migration answers `from` = the home the room reported, and the room reports `to` afterwards", async () => {
		const room = uniqueRoom();
		const token = await tokenFor(room, "alice");
		await reportedHome(room, token);
		const { socket } = await join(room, "alice", { region: "weur" });
		const before = await reportedHome(room, token);
		const to = before === "apac" ? "weur" : "apac";
		const res = await migrate(room, to);
		expect(res.status, await res.clone().text()).toBe(200);
		expect(((await res.json()) as { from: string }).from).toBe(before);
		expect(await reportedHome(room, token)).toBe(to);
		await leaveRoom(room, socket);
	});
});
