/**
 * How deep a publish's `data` may nest (CONTRACT.md §13): deeper `data` is refused
 * (`bad_message` on a socket, 400 `bad_request` over HTTP) and never stored, because a stored
 * message too deep for the runtime's serializers would break every history page and replay that
 * contains it.
 */

/** Most levels of arrays/objects `data` may nest: `[]` is one level, `[[1]]` two, a scalar none. */
export const MAX_DATA_DEPTH = 64;

/**
 * True when `value` (parsed JSON) nests arrays/objects more than `max` levels deep. Iterative,
 * so no input can exhaust the stack; stops at the first container beyond `max`.
 */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
	const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }];
	for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
		const { node, depth } = top;
		if (typeof node !== "object" || node === null) continue;
		const level = depth + 1;
		if (level > max) return true;
		const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
		for (const child of children) if (typeof child === "object" && child !== null) stack.push({ node: child, depth: level });
	}
	return false;
}
