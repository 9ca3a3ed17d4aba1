import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VERSION } from "../../src/core/version.ts";

describe("version", () => {
	it("is the package's version", () => {
		const pkg: unknown = JSON.parse(readFileSync(join(import.meta.dirname, "../../package.json"), "utf8"));
		expect(pkg).toMatchObject({ version: VERSION });
	});
});
