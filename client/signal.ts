/**
 * The slice of `AbortSignal` the SDK uses, so any runtime's (browser, Workers, Node) fits without
 * DOM types.
 */
export interface SignalLike {
	readonly aborted: boolean;
	addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
	removeEventListener(type: "abort", listener: () => void): void;
}

/**
 * Calls `onAbort` once when `signal` aborts (at once when it already has); returns a function
 * that removes the listener. A missing signal never aborts.
 */
export function onAbort(signal: SignalLike | undefined, onAbort: () => void): () => void {
	if (signal === undefined) return () => undefined;
	if (signal.aborted) {
		onAbort();
		return () => undefined;
	}
	signal.addEventListener("abort", onAbort, { once: true });
	return () => signal.removeEventListener("abort", onAbort);
}
