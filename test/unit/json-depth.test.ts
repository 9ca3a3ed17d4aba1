import { describe, expect, it } from "vitest";
import { jsonDepthExceeds, MAX_DATA_DEPTH } from "../../protocol/json-depth.ts";

const arrays = (depth: number): unknown => JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`);
const objects = (depth: number): unknown => {
	let v: unknown = "leaf";
	for (let i = 0; i < depth; i++) v = { k: v };
	return v;
};

describe("finding 5 groundwork: jsonDepthExceeds", () => {
	it("counts levels of arrays and objects; a scalar has none", () => {
		for (const scalar of [null, 1, "x", true]) expect(jsonDepthExceeds(scalar, 0)).toBe(false);
		expect(jsonDepthExceeds([], 0)).toBe(true);
		expect(jsonDepthExceeds([], 1)).toBe(false);
		expect(jsonDepthExceeds({ a: [1, { b: 2 }] }, 2)).toBe(true);
		expect(jsonDepthExceeds({ a: [1, { b: 2 }] }, 3)).toBe(false);
	});

	it(`accepts ${MAX_DATA_DEPTH} levels and refuses ${MAX_DATA_DEPTH + 1}, for arrays and objects`, () => {
		expect(jsonDepthExceeds(arrays(MAX_DATA_DEPTH), MAX_DATA_DEPTH)).toBe(false);
		expect(jsonDepthExceeds(arrays(MAX_DATA_DEPTH + 1), MAX_DATA_DEPTH)).toBe(true);
		expect(jsonDepthExceeds(objects(MAX_DATA_DEPTH), MAX_DATA_DEPTH)).toBe(false);
		expect(jsonDepthExceeds(objects(MAX_DATA_DEPTH + 1), MAX_DATA_DEPTH)).toBe(true);
	});

	it("finds the one deep branch among wide shallow ones", () => {
		const wide = Array.from({ length: 1000 }, (_, i) => ({ i, list: [i, [i]] }));
		expect(jsonDepthExceeds(wide, MAX_DATA_DEPTH)).toBe(false);
		wide.push({ i: -1, list: [arrays(MAX_DATA_DEPTH)] } as never);
		expect(jsonDepthExceeds(wide, MAX_DATA_DEPTH)).toBe(true);
	});

	it("does not recurse: 200,000 levels are refused without exhausting the stack", () => {
		expect(jsonDepthExceeds(arrays(200_000), MAX_DATA_DEPTH)).toBe(true);
		expect(jsonDepthExceeds(arrays(200_000), 1_000_000)).toBe(false);
	});
});
