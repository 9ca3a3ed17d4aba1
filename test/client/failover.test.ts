import { describe, expect, it, vi } from "vitest";
import { CloseCode } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { expectRedialAfter, settle, start, startOpen, useFakes } from "./harness.ts";

const endpoints = ["http://wnam.test", "http://weur.test", "http://apac.test"];

useFakes(0);

function host(ws: FakeWebSocket): string {
	return ws.url.host;
}

describe("region failover", () => {
	it("tries the endpoints in order, round robin, while connects fail before a welcome", async () => {
		start({ url: undefined, endpoints });
		await settle();
		const hosts = [host(FakeWebSocket.last)];
		for (let i = 0; i < 3; i++) {
			FakeWebSocket.last.serverClose(CloseCode.Abnormal);
			hosts.push(host(await expectRedialAfter(0)));
		}
		expect(hosts).toEqual(["wnam.test", "weur.test", "apac.test", "wnam.test"]);
	});

	it("moves on when an endpoint refuses before the welcome with a retryable code", async () => {
		start({ url: undefined, endpoints });
		await settle();
		FakeWebSocket.last.open();
		FakeWebSocket.last.serverClose(CloseCode.InternalError, { code: "server_misconfigured" });
		expect(host(await expectRedialAfter(0))).toBe("weur.test");
	});

	it("moves to the next endpoint when a welcomed connection drops with 1006, resuming there", async () => {
		const { ws } = await startOpen({ url: undefined, endpoints }, { resume: "r-1", seq: 4 });
		ws.serverClose(CloseCode.Abnormal);
		const next = await expectRedialAfter(0);
		expect(host(next)).toBe("weur.test");
		expect(next.query.get("resume")).toBe("r-1");
		expect(next.query.get("after")).toBe("4");
	});

	it("stays on the same endpoint for a drain or a move of a welcomed connection", async () => {
		const { ws } = await startOpen({ url: undefined, endpoints });
		ws.serverClose(CloseCode.ServiceRestart, { retryIn: 0 });
		const afterDrain = await expectRedialAfter(0);
		expect(host(afterDrain)).toBe("wnam.test");
		afterDrain.welcome();
		afterDrain.serverClose(CloseCode.RoomMoved, { home: "weur", retryIn: 0 });
		expect(host(await expectRedialAfter(0))).toBe("wnam.test");
	});

	it("moves on after a connect timeout", async () => {
		start({ url: undefined, endpoints, connectTimeout: 1_000 });
		await settle();
		await vi.advanceTimersByTimeAsync(1_000);
		expect(host(FakeWebSocket.last)).toBe("weur.test");
	});

	it("uses `url` first when both `url` and `endpoints` are given", async () => {
		start({ url: "http://primary.test", endpoints: ["http://secondary.test"] });
		await settle();
		expect(host(FakeWebSocket.last)).toBe("primary.test");
		FakeWebSocket.last.serverClose(CloseCode.Abnormal);
		expect(host(await expectRedialAfter(0))).toBe("secondary.test");
	});
});
