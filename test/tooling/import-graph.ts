/**
 * The project's module graph, read with the TypeScript parser (every `import`, `import type`,
 * `export … from` and `import()` with a relative specifier), and the layering rules it must keep:
 * no cycle anywhere, the shared core never reaches the gateway or the Durable Objects, the
 * Durable Objects never reach the gateway, the protocol and the SDK stay self-contained.
 *
 * Cycles are looked for among the imports that load a module at runtime; a loop made only of
 * type imports (erased by `verbatimModuleSyntax`) loads nothing and is not one. The layer rules
 * count type imports too: a type is a dependency all the same.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

/** One import of a module: its target (relative to the repository root) and whether only types come through it. */
export interface ImportEdge {
	to: string;
	typeOnly: boolean;
}

/** Module → what it imports, as paths relative to the repository root. */
export type ImportGraph = Map<string, ImportEdge[]>;

/** A relative specifier a module imports, and whether only types come through it. */
export interface ImportSpecifier {
	spec: string;
	typeOnly: boolean;
}

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

function importIsTypeOnly(node: ts.ImportDeclaration): boolean {
	const clause = node.importClause;
	if (clause === undefined) return false;
	if (clause.isTypeOnly) return true;
	const bindings = clause.namedBindings;
	return (
		clause.name === undefined &&
		bindings !== undefined &&
		ts.isNamedImports(bindings) &&
		bindings.elements.length > 0 &&
		bindings.elements.every((e) => e.isTypeOnly)
	);
}

function exportIsTypeOnly(node: ts.ExportDeclaration): boolean {
	if (node.isTypeOnly) return true;
	const clause = node.exportClause;
	return clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

/** Relative specifiers a module imports, in any form the parser sees. */
export function importSpecifiers(fileName: string, text: string): ImportSpecifier[] {
	const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
	const specs: ImportSpecifier[] = [];
	const visit = (node: ts.Node): void => {
		if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
			specs.push({ spec: node.moduleSpecifier.text, typeOnly: importIsTypeOnly(node) });
		} else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
			specs.push({ spec: node.moduleSpecifier.text, typeOnly: exportIsTypeOnly(node) });
		} else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
			const arg = node.arguments[0];
			if (arg !== undefined && ts.isStringLiteral(arg)) specs.push({ spec: arg.text, typeOnly: false });
		} else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
			specs.push({ spec: node.argument.literal.text, typeOnly: true });
		}
		ts.forEachChild(node, visit);
	};
	visit(source);
	return specs.filter((s) => s.spec.startsWith("./") || s.spec.startsWith("../"));
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
		const edges = new Map<string, boolean>();
		for (const { spec, typeOnly } of importSpecifiers(path, text)) {
			const to = relative(root, resolve(root, dirname(path), spec));
			// A module imported for values anywhere is a runtime edge.
			if (texts.has(to)) edges.set(to, (edges.get(to) ?? true) && typeOnly);
		}
		graph.set(
			path,
			[...edges].map(([to, typeOnly]) => ({ to, typeOnly })),
		);
	}
	return graph;
}

/** Every runtime cycle's modules (strongly connected components larger than one, or a self-import). */
export function findCycles(graph: ImportGraph): string[][] {
	const runtime = new Map([...graph].map(([from, edges]) => [from, edges.filter((e) => !e.typeOnly).map((e) => e.to)]));
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
		for (const w of runtime.get(v) ?? []) {
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
			if (component.length > 1 || (runtime.get(v) ?? []).includes(v)) cycles.push(component.sort());
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
			for (const { to } of targets) if (rule.forbidden.some((f) => to === f || to.startsWith(f))) out.push(`${from} → ${to}`);
		}
	}
	return out.sort();
}
