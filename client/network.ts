/**
 * Browser connectivity events. `online` means a network interface came up (often a different
 * one: the old socket's TCP path may be dead); `offline` means none is up. Neither proves
 * anything about a given socket — `navigator.onLine` is known to be wrong both ways on some
 * systems — so the SDK only uses them to act sooner: dial at once on `online`, and probe an open
 * socket (a `ping` must be answered within {@link NETWORK_PROBE_MS}) before giving up on it.
 */

/** Where `online`/`offline` events come from: `window` in browsers, or a test's own target. */
export interface NetworkEvents {
	addEventListener(type: "online" | "offline", listener: () => void): void;
	removeEventListener(type: "online" | "offline", listener: () => void): void;
}

/** How long an open socket has to answer a probe `ping` after a connectivity event. */
export const NETWORK_PROBE_MS = 5_000;

/**
 * The default source: `globalThis` in a browser (where `navigator.onLine` exists), else none —
 * Node and Workers have no such events.
 */
export function defaultNetworkEvents(): NetworkEvents | null {
	const navigator: unknown = Reflect.get(globalThis, "navigator");
	const onLine = typeof navigator === "object" && navigator !== null ? Reflect.get(navigator, "onLine") : undefined;
	if (typeof onLine !== "boolean") return null;
	const target: unknown = globalThis;
	return isNetworkEvents(target) ? target : null;
}

function isNetworkEvents(value: unknown): value is NetworkEvents {
	return (
		typeof value === "object" &&
		value !== null &&
		typeof Reflect.get(value, "addEventListener") === "function" &&
		typeof Reflect.get(value, "removeEventListener") === "function"
	);
}

/** Listens for both events; returns a function that stops listening. */
export function watchNetwork(target: NetworkEvents, handlers: { online(): void; offline(): void }): () => void {
	const online = (): void => handlers.online();
	const offline = (): void => handlers.offline();
	target.addEventListener("online", online);
	target.addEventListener("offline", offline);
	return () => {
		target.removeEventListener("online", online);
		target.removeEventListener("offline", offline);
	};
}
