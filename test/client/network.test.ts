import { describe, expect, it, vi } from "vitest";
import { CloseCode, NETWORK_PROBE_MS } from "../../client/index.ts";
import { FakeWebSocket } from "./fake-websocket.ts";
import { expectRedialAfter, FakeNetwork, settle, start, startOpen, useFakes } from "./harness.ts";

useFakes();

const slowBackoff = { base: 20_000, cap: 20_000 };

describe("browser online/offline events", () => {
	it("`online` during a backoff wait dials at once", async () => {
		const network = new FakeNetwork();
		const { room, ws } = await startOpen({ network, backoff: slowBackoff }, { resume: "r-1" });
		ws.serverClose(CloseCode.Abnormal);
		await vi.advanceTimersByTimeAsync(1_000);
		expect(FakeWebSocket.instances).toHaveLength(1);
		network.dispatch("online");
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(2);
		expect(FakeWebSocket.last.query.get("resume")).toBe("r-1");
		expect(room.state).toBe("reconnecting");
	});

	it("`online` while a dial is pending replaces that dial (closed with 4000) with a fresh one at once", async () => {
		const network = new FakeNetwork();
		const { events } = start({ network, backoff: slowBackoff });
		await settle();
		const hanging = FakeWebSocket.last;
		network.dispatch("online");
		expect(hanging.closedByClient).toEqual({ code: CloseCode.ClientReconnect, reason: "network_online" });
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(2);
		expect(events.close).toEqual([]);
		expect(events.dial_failed).toEqual([{ code: CloseCode.ClientReconnect, reason: "network_online", attempt: 1, retryIn: 0 }]);
	});

	it("`offline` on an open socket that answers the probe keeps it", async () => {
		const network = new FakeNetwork();
		const { room, events, ws } = await startOpen({ network }, { heartbeat: { interval: 0, timeout: 0 } });
		network.dispatch("offline");
		expect(ws.pings()).toBe(1);
		ws.receive("pong");
		await vi.advanceTimersByTimeAsync(NETWORK_PROBE_MS * 2);
		expect(room.state).toBe("open");
		expect(ws.closedByClient).toBeNull();
		expect(events.close).toEqual([]);
	});

	it("`offline` on a socket that does not answer within the probe time replaces it (4000) and redials with backoff", async () => {
		const network = new FakeNetwork();
		const { room, events, ws } = await startOpen({ network }, { resume: "r-1", heartbeat: { interval: 0, timeout: 0 } });
		network.dispatch("offline");
		await vi.advanceTimersByTimeAsync(NETWORK_PROBE_MS - 1);
		expect(room.state).toBe("open");
		await vi.advanceTimersByTimeAsync(1);
		expect(ws.closedByClient).toEqual({ code: CloseCode.ClientReconnect, reason: "network_probe_failed" });
		expect(events.close).toEqual([{ code: CloseCode.ClientReconnect, reason: "network_probe_failed", willReconnect: true, opened: true }]);
		expect(room.state).toBe("reconnecting");
		await expectRedialAfter(125);
	});

	it("`online` on an open socket probes it and, if it does not answer, redials at once", async () => {
		const network = new FakeNetwork();
		const { ws } = await startOpen({ network, backoff: slowBackoff }, { resume: "r-1", heartbeat: { interval: 0, timeout: 0 } });
		network.dispatch("online");
		expect(ws.pings()).toBe(1);
		await vi.advanceTimersByTimeAsync(NETWORK_PROBE_MS - 1);
		expect(ws.closedByClient).toBeNull();
		await expectRedialAfter(1);
		expect(ws.closedByClient).toEqual({ code: CloseCode.ClientReconnect, reason: "network_online" });
	});

	it("`online` after `offline` makes the pending probe's failure a reason to dial at once", async () => {
		const network = new FakeNetwork();
		const { ws } = await startOpen({ network, backoff: slowBackoff }, { heartbeat: { interval: 0, timeout: 0 } });
		network.dispatch("offline");
		network.dispatch("online");
		expect(ws.pings()).toBe(1);
		await vi.advanceTimersByTimeAsync(NETWORK_PROBE_MS - 1);
		await expectRedialAfter(1);
	});

	it("removes its listeners when the room closes", async () => {
		const network = new FakeNetwork();
		const { room } = await startOpen({ network });
		expect(network.listeners).toBe(2);
		room.close();
		expect(network.listeners).toBe(0);
		network.dispatch("online");
		await settle();
		expect(FakeWebSocket.instances).toHaveLength(1);
	});

	it("is off with network: null, and off by default where there is no navigator.onLine (Node)", async () => {
		const { room } = await startOpen({ network: null });
		expect(room.state).toBe("open");
		// Node has no online/offline events: the default attaches nothing to globalThis.
		expect(Reflect.get(globalThis, "addEventListener")).toBeUndefined();
	});
});
