/**
 * Worker code typechecks against the Worker's generated runtime types only (tsconfig.worker.json):
 * a Node-only API in `src/`, `durable-objects/` or `protocol/` must fail `npm run typecheck`.
 * The probe compiles with exactly that config's options, once with Node APIs (must fail) and once
 * with the Workers equivalents (must pass, so the test cannot pass by failing to compile at all).
 */
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");

function workerDiagnostics(probeSource: string): string[] {
	const configPath = join(root, "tsconfig.worker.json");
	const read = ts.readConfigFile(configPath, ts.sys.readFile);
	const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, configPath);
	const probePath = join(root, "src/__probe__.ts");
	const host = ts.createCompilerHost(parsed.options);
	const readFile = host.readFile.bind(host);
	host.readFile = (file) => (file === probePath ? probeSource : readFile(file));
	const fileExists = host.fileExists.bind(host);
	host.fileExists = (file) => file === probePath || fileExists(file);
	const program = ts.createProgram([join(root, "worker-configuration.d.ts"), probePath], parsed.options, host);
	return ts
		.getPreEmitDiagnostics(program)
		.filter((d) => d.file?.fileName === probePath)
		.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

// Each probe typechecks the whole Worker program: seconds of CPU, more on a loaded machine.
describe("Worker code has no Node types", { timeout: 60_000 }, () => {
	it("refuses Buffer, process and node: imports", () => {
		const errors = workerDiagnostics(
			[
				'import { createHash } from "node:crypto";',
				"export const a = Buffer.from('x');",
				"export const b = process.env.HOME;",
				"export const c = createHash;",
			].join("\n"),
		);
		expect(errors.some((e) => e.includes("Buffer"))).toBe(true);
		expect(errors.some((e) => e.includes("process"))).toBe(true);
		expect(errors.some((e) => e.includes("node:crypto"))).toBe(true);
	});

	it("accepts the Workers runtime's own APIs", () => {
		const errors = workerDiagnostics(
			[
				"export const a = new TextEncoder().encode('x');",
				"export const b = crypto.randomUUID();",
				"export type C = DurableObjectState;",
				"export const d = (ws: WebSocket) => ws.deserializeAttachment();",
			].join("\n"),
		);
		expect(errors).toEqual([]);
	});
});
