import { describe, expect, it, vi } from "vitest";
import { CloseCode } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { expectRedialAfter, settle, start, startOpen, useFakes } from "./harness.ts";

useFakes();

describe("room.ready", () => {
	it("resolves with the first welcome, and stays resolved across reconnects", async () => {
		const { room, ws } = await startOpen({}, { session: "s-1", resume: "r-1" });
		await expect(room.ready).resolves.toMatchObject({ type: "welcome", session: "s-1" });
		ws.serverClose(CloseCode.Abnormal);
		const next = await expectRedialAfter(125);
		next.welcome({ session: "s-1", resume: "r-2", resumed: true });
		await expect(room.ready).resolves.toMatchObject({ resume: "r-1" });
	});

	it("rejects with the stop error when the first dial is refused (4003 before any welcome)", async () => {
		const { room } = start();
		await settle();
		FakeWebSocket.last.serverClose(CloseCode.Forbidden, { code: "forbidden" });
		await expect(room.ready).rejects.toMatchObject({ name: "BatonError", code: "forbidden", closeCode: CloseCode.Forbidden });
	});

	it("rejects with `closed` when close() comes first, and never as an unhandled rejection", async () => {
		const unhandled = vi.fn();
		process.on("unhandledRejection", unhandled);
		try {
			const { room } = start();
			room.close();
			await settle();
			await vi.advanceTimersByTimeAsync(10);
			expect(unhandled).not.toHaveBeenCalled();
			await expect(room.ready).rejects.toMatchObject({ code: "closed" });
		} finally {
			process.off("unhandledRejection", unhandled);
		}
	});

	it("keeps waiting through failed dials and resolves on the welcome that finally comes", async () => {
		const { room } = start();
		await settle();
		FakeWebSocket.last.serverClose(CloseCode.Abnormal);
		const second = await expectRedialAfter(125);
		second.welcome({ session: "late" });
		await expect(room.ready).resolves.toMatchObject({ session: "late" });
	});
});

describe("room.opened()", () => {
	it("resolves at once with the current welcome while open", async () => {
		const { room } = await startOpen({}, { session: "s-open" });
		await expect(room.opened()).resolves.toMatchObject({ session: "s-open" });
	});

	it("waits for the next welcome while reconnecting", async () => {
		const { room, ws } = await startOpen({}, { resume: "r-1" });
		ws.serverClose(CloseCode.Abnormal);
		let result: unknown = null;
		void room.opened().then((w) => {
			result = w;
		});
		await settle();
		expect(result).toBeNull();
		const next = await expectRedialAfter(125);
		next.welcome({ resume: "r-2", resumed: true });
		await settle();
		expect(result).toMatchObject({ resume: "r-2" });
	});

	it("rejects once the room is closed, and for calls made after it closed", async () => {
		const { room, ws } = await startOpen();
		ws.serverClose(CloseCode.Abnormal);
		const waiting = room.opened();
		room.close();
		await expect(waiting).rejects.toMatchObject({ code: "closed" });
		await expect(room.opened()).rejects.toMatchObject({ code: "closed" });
	});
});
