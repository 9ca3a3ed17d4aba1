import { describe, expect, it } from "vitest";
import { MetricEvent, Metrics, type MetricsSink, metricsSinkFrom } from "../../src/core/metrics.ts";

function recorder(): MetricsSink & { points: unknown[] } {
	const points: unknown[] = [];
	return { points, writeDataPoint: (p) => points.push(p) };
}

describe("metrics", () => {
	it("writes one data point per event in the documented layout", () => {
		const sink = recorder();
		const m = new Metrics(sink, "weur");
		m.count(MetricEvent.Close, "lobby", 4008);
		m.count(MetricEvent.Replay, "lobby", "", 12);
		expect(sink.points).toEqual([
			{ indexes: ["lobby"], blobs: ["close", "4008", "weur"], doubles: [1] },
			{ indexes: ["lobby"], blobs: ["replay", "", "weur"], doubles: [12] },
		]);
	});

	it("is a no-op without a dataset binding, and never throws from a failing one", () => {
		expect(metricsSinkFrom({})).toBeNull();
		expect(metricsSinkFrom({ BATON_METRICS: "not a binding" })).toBeNull();
		new Metrics(null, "wnam").count(MetricEvent.Connect, "lobby", "fresh");
		const failing: MetricsSink = {
			writeDataPoint: () => {
				throw new Error("quota");
			},
		};
		expect(() => new Metrics(failing, "wnam").count(MetricEvent.Connect, "lobby", "fresh")).not.toThrow();
	});

	it("counts nothing for an empty replay", () => {
		const sink = recorder();
		new Metrics(sink, "wnam").count(MetricEvent.Replay, "lobby", "", 0);
		expect(sink.points).toEqual([]);
	});
});
