/** LOG_LEVEL: lines below it are not written; an unknown level keeps `info` and says so. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigName, readConfig } from "../../src/core/config.ts";
import { log, setLogLevel } from "../../src/core/log.ts";

const SECRET = "0123456789abcdef0123456789abcdef";

function written(spy: { mock: { calls: unknown[][] } }): Array<Record<string, unknown>> {
	return spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
}

describe("LOG_LEVEL", () => {
	afterEach(() => {
		setLogLevel("info");
		vi.restoreAllMocks();
	});

	it("is info by default: info, warn and error lines are written", () => {
		const out = vi.spyOn(console, "log").mockImplementation(() => {});
		const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
		expect(readConfig({ BATON_JWT_SECRET: SECRET }).logLevel).toBe("info");
		log.info("connect", { room: "r" });
		log.warn("w");
		expect(written(out).map((l) => l.event)).toEqual(["connect"]);
		expect(written(warn).map((l) => l.event)).toEqual(["w"]);
	});

	it("warn drops info lines and keeps warnings and errors", () => {
		const out = vi.spyOn(console, "log").mockImplementation(() => {});
		const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
		const error = vi.spyOn(console, "error").mockImplementation(() => {});
		expect(readConfig({ BATON_JWT_SECRET: SECRET, LOG_LEVEL: "warn" }).logLevel).toBe("warn");
		log.info("connect", { room: "r" });
		log.warn("config_invalid");
		log.error("internal_error");
		expect(out).not.toHaveBeenCalled();
		expect(written(warn).map((l) => l.event)).toEqual(["config_invalid"]);
		expect(written(error).map((l) => l.event)).toEqual(["internal_error"]);
	});

	it("error keeps only errors; debug writes everything; the name's case does not matter", () => {
		const out = vi.spyOn(console, "log").mockImplementation(() => {});
		const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
		readConfig({ BATON_JWT_SECRET: SECRET, LOG_LEVEL: "error" });
		log.info("a");
		log.warn("b");
		expect(out).not.toHaveBeenCalled();
		expect(warn).not.toHaveBeenCalled();
		expect(readConfig({ BATON_JWT_SECRET: SECRET, LOG_LEVEL: "DEBUG" }).logLevel).toBe("debug");
		log.info("c");
		expect(written(out).map((l) => l.event)).toEqual(["c"]);
	});

	it("an unknown level falls back to info with one config_invalid line", () => {
		const out = vi.spyOn(console, "log").mockImplementation(() => {});
		const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
		expect(readConfig({ BATON_JWT_SECRET: SECRET, LOG_LEVEL: "verbose" }).logLevel).toBe("info");
		expect(written(warn)).toEqual([expect.objectContaining({ event: "config_invalid", name: ConfigName.LogLevel, fallback: "info" })]);
		log.info("connect");
		expect(written(out).map((l) => l.event)).toEqual(["connect"]);
	});
});
