/** A handler for one event type. */
export type Handler<T> = (payload: T) => void;

/**
 * A tiny typed event emitter. A handler that throws does not stop the other handlers nor corrupt
 * the caller's state: its error is rethrown from a microtask, where the host reports it as an
 * uncaught error (the way `EventTarget` does).
 */
export class Emitter<Events extends object> {
	#handlers: { [K in keyof Events]?: Set<Handler<Events[K]>> } = {};

	/** Adds `handler` for `type`; returns a function that removes it. */
	on<K extends keyof Events>(type: K, handler: Handler<Events[K]>): () => void {
		let set = this.#handlers[type];
		if (set === undefined) {
			set = new Set();
			this.#handlers[type] = set;
		}
		set.add(handler);
		return () => {
			set.delete(handler);
		};
	}

	/** Calls every handler of `type` with `payload`, in the order they were added. */
	emit<K extends keyof Events>(type: K, payload: Events[K]): void {
		const set = this.#handlers[type];
		if (set === undefined) return;
		for (const handler of [...set]) {
			try {
				handler(payload);
			} catch (error) {
				queueMicrotask(() => {
					throw error;
				});
			}
		}
	}
}
