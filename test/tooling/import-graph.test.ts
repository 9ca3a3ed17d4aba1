/**
 * The module layering of STYLE.md 11 / issue 11: `src/core` is the plumbing the gateway and the
 * Durable Objects share and imports neither; the Durable Objects never import the gateway; nothing
 * imports in a loop. The checks run on the real tree, and on the tree plus one injected import,
 * so they are shown to fail when such an import appears.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findCycles, importGraph, importSpecifiers, layerViolations } from "./import-graph.ts";

const root = join(import.meta.dirname, "../..");

describe("module graph", () => {
	const graph = importGraph(root);

	it("reads the tree (the room, the gateway and the core are all in it)", () => {
		expect(graph.has("src/core/routing.ts")).toBe(true);
		expect(graph.has("src/gateway/app.ts")).toBe(true);
		expect(graph.has("durable-objects/anchor/anchor.ts")).toBe(true);
		expect(graph.get("src/index.ts")?.length ?? 0).toBeGreaterThan(0);
	});

	it("has no import cycle", () => {
		expect(findCycles(graph)).toEqual([]);
	});

	it("keeps the layers: core imports neither gateway nor Durable Objects; Durable Objects never import the gateway", () => {
		expect(layerViolations(graph)).toEqual([]);
	});

	it("reports a Durable Object importing the gateway, and the loop it makes", () => {
		const anchor = "durable-objects/anchor/anchor.ts";
		const injected = importGraph(root, {
			"src/gateway/probe.ts": 'import { RoomAnchor } from "../../durable-objects/anchor/anchor.ts";\nexport const probe = RoomAnchor;\n',
			[anchor]: `import type { probe } from "../../src/gateway/probe.ts";\n${graph.has(anchor) ? "" : "export {};"}`,
		});
		expect(layerViolations(injected)).toContain(`${anchor} → src/gateway/probe.ts`);
		expect(findCycles(injected)).toContainEqual([anchor, "src/gateway/probe.ts"]);
	});

	it("reports the core importing a Durable Object, even as a type-only import", () => {
		const injected = importGraph(root, { "src/core/probe.ts": 'export type P = import("../../durable-objects/anchor/anchor.ts").RoomAnchor;\n' });
		expect(layerViolations(injected)).toEqual(["src/core/probe.ts → durable-objects/anchor/anchor.ts"]);
	});

	it("sees every import form: static, type-only, re-export, dynamic, import types", () => {
		const text = [
			'import { a } from "./a.ts";',
			'import type { B } from "../b.ts";',
			'export { c } from "./c.ts";',
			'const d = await import("./d.ts");',
			'type E = import("./e.ts").E;',
			'import { f } from "hono";',
		].join("\n");
		expect(importSpecifiers("x.ts", text)).toEqual(["./a.ts", "../b.ts", "./c.ts", "./d.ts", "./e.ts"]);
	});
});
