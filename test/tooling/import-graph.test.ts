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
		expect(graph.get("src/index.ts")?.map((e) => e.to)).toContain("server/index.ts");
	});

	it("has no import cycle (among imports that load modules)", () => {
		expect(findCycles(graph)).toEqual([]);
	});

	it("keeps the layers: core imports neither gateway nor Durable Objects; Durable Objects never import the gateway", () => {
		expect(layerViolations(graph)).toEqual([]);
	});

	it("reports a Durable Object importing the gateway, and the loop it makes", () => {
		const anchor = "durable-objects/anchor/anchor.ts";
		const injected = importGraph(root, {
			"src/gateway/probe.ts": 'import { RoomAnchor } from "../../durable-objects/anchor/anchor.ts";\nexport const probe = RoomAnchor;\n',
			[anchor]: `import { probe } from "../../src/gateway/probe.ts";\nexport const p = probe;\n`,
		});
		expect(layerViolations(injected)).toContain(`${anchor} → src/gateway/probe.ts`);
		expect(findCycles(injected)).toContainEqual([anchor, "src/gateway/probe.ts"]);
	});

	it("reports the core importing a Durable Object, even as a type-only import", () => {
		const injected = importGraph(root, { "src/core/probe.ts": 'export type P = import("../../durable-objects/anchor/anchor.ts").RoomAnchor;\n' });
		expect(layerViolations(injected)).toEqual(["src/core/probe.ts → durable-objects/anchor/anchor.ts"]);
	});

	it("a loop of type imports only loads nothing and is no cycle; one value import makes it one", () => {
		const a = "durable-objects/room/probe-a.ts";
		const b = "durable-objects/room/probe-b.ts";
		const typesOnly = importGraph(root, {
			[a]: 'import type { B } from "./probe-b.ts";\nexport type A = B;\n',
			[b]: 'import { type A } from "./probe-a.ts";\nexport type B = A;\n',
		});
		expect(findCycles(typesOnly)).toEqual([]);
		const loading = importGraph(root, {
			[a]: 'import type { B } from "./probe-b.ts";\nexport type A = B;\n',
			[b]: 'import { A } from "./probe-a.ts";\nexport const B = A;\n',
		});
		expect(findCycles(loading)).toEqual([]);
		const both = importGraph(root, {
			[a]: 'import { B } from "./probe-b.ts";\nexport const A = 1;\n',
			[b]: 'import { A } from "./probe-a.ts";\nexport const B = A;\n',
		});
		expect(findCycles(both)).toEqual([[a, b]]);
	});

	it("sees every import form and which bring types only: static, type-only, re-export, dynamic, import types", () => {
		const text = [
			'import { a } from "./a.ts";',
			'import type { B } from "../b.ts";',
			'import { type C1, type C2 } from "./c.ts";',
			'import { type D1, d2 } from "./d.ts";',
			'export { e } from "./e.ts";',
			'export type { F } from "./f.ts";',
			'const g = await import("./g.ts");',
			'type H = import("./h.ts").H;',
			'import "./i.ts";',
			'import { j } from "hono";',
		].join("\n");
		expect(importSpecifiers("x.ts", text)).toEqual([
			{ spec: "./a.ts", typeOnly: false },
			{ spec: "../b.ts", typeOnly: true },
			{ spec: "./c.ts", typeOnly: true },
			{ spec: "./d.ts", typeOnly: false },
			{ spec: "./e.ts", typeOnly: false },
			{ spec: "./f.ts", typeOnly: true },
			{ spec: "./g.ts", typeOnly: false },
			{ spec: "./h.ts", typeOnly: true },
			{ spec: "./i.ts", typeOnly: false },
		]);
	});
});
