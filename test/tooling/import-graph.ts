/**
 * The project's module graph, read with the TypeScript parser (every `import`, `import type`,
 * `export … from` and `import()` with a relative specifier), and the layering rules it must keep:
 * no cycle anywhere, the shared core never reaches the gateway or the Durable Objects, the
 * Durable Objects never reach the gateway, the protocol and the SDK stay self-contained.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

/** Module → the modules it imports, as paths relative to the repository root. */
export type ImportGraph = Map<string, string[]>;

/** Folders whose source files are graphed (declaration files and generated bundles aside). */
export const GRAPHED_DIRS = ["src", "durable-objects", "protocol", "client", "server"] as const;

function sourceFiles(dir: string): string[] {
	if (!existsSync(dir)) return [];
	const out: string[] = [];
	for (const name of readdirSync(dir)) {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
		else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
	}
	return out;
}

/** Relative specifiers a module imports, in any form the parser sees. */
export function importSpecifiers(fileName: string, text: string): string[] {
	const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
	const specs: string[] = [];
	const visit = (node: ts.Node): void => {
		if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
			specs.push(node.moduleSpecifier.text);
		} else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
			const arg = node.arguments[0];
			if (arg !== undefined && ts.isStringLiteral(arg)) specs.push(arg.text);
		} else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
			specs.push(node.argument.literal.text);
		}
		ts.forEachChild(node, visit);
	};
	visit(source);
	return specs.filter((s) => s.startsWith("./") || s.startsWith("../"));
}

/**
 * Builds the graph of the repository at `root`. `extra` adds or replaces modules by path (their
 * source text), so a test can prove that a forbidden import is caught.
 */
export function importGraph(root: string, extra: Record<string, string> = {}): ImportGraph {
	const texts = new Map<string, string>();
	for (const dir of GRAPHED_DIRS) for (const file of sourceFiles(join(root, dir))) texts.set(relative(root, file), readFileSync(file, "utf8"));
	for (const [path, text] of Object.entries(extra)) texts.set(path, text);
	const graph: ImportGraph = new Map();
	for (const [path, text] of texts) {
		const targets = importSpecifiers(path, text)
			.map((spec) => relative(root, resolve(root, dirname(path), spec)))
			.filter((target) => texts.has(target));
		graph.set(path, [...new Set(targets)]);
	}
	return graph;
}

/** Every cycle's modules (strongly connected components larger than one, or a self-import). */
export function findCycles(graph: ImportGraph): string[][] {
	let index = 0;
	const indices = new Map<string, number>();
	const low = new Map<string, number>();
	const stack: string[] = [];
	const onStack = new Set<string>();
	const cycles: string[][] = [];
	const connect = (v: string): void => {
		indices.set(v, index);
		low.set(v, index);
		index++;
		stack.push(v);
		onStack.add(v);
		for (const w of graph.get(v) ?? []) {
			if (!indices.has(w)) {
				connect(w);
				low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
			} else if (onStack.has(w)) {
				low.set(v, Math.min(low.get(v) ?? 0, indices.get(w) ?? 0));
			}
		}
		if (low.get(v) === indices.get(v)) {
			const component: string[] = [];
			for (;;) {
				const w = stack.pop();
				if (w === undefined) break;
				onStack.delete(w);
				component.push(w);
				if (w === v) break;
			}
			if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
		}
	};
	for (const v of graph.keys()) if (!indices.has(v)) connect(v);
	return cycles;
}

/** A layer and the folders its modules must never import. */
export interface LayerRule {
	layer: string;
	forbidden: readonly string[];
}

export const LAYER_RULES: readonly LayerRule[] = [
	{ layer: "src/core/", forbidden: ["src/gateway/", "durable-objects/", "server/", "src/index.ts"] },
	{ layer: "durable-objects/", forbidden: ["src/gateway/", "server/", "src/index.ts"] },
	{ layer: "protocol/", forbidden: ["src/", "durable-objects/", "client/", "server/"] },
	{ layer: "client/", forbidden: ["src/", "durable-objects/", "server/"] },
];

/** Imports that break a layer rule, as "from → to". */
export function layerViolations(graph: ImportGraph, rules: readonly LayerRule[] = LAYER_RULES): string[] {
	const out: string[] = [];
	for (const [from, targets] of graph) {
		for (const rule of rules) {
			if (!from.startsWith(rule.layer)) continue;
			for (const to of targets) if (rule.forbidden.some((f) => to === f || to.startsWith(f))) out.push(`${from} → ${to}`);
		}
	}
	return out.sort();
}
