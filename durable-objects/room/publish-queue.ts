/**
 * One publish at a time per connection (CONTRACT.md §9, §14). The runtime delivers a socket's
 * frames in order, but an async `onPublish` that awaits I/O lets the socket's next
 * `webSocketMessage` start before the first is stored; without this queue a connection's
 * publishes could be stored out of the order it sent them.
 *
 * The queue lives in memory only, and may: a hook holds the object awake (an event is in
 * progress), so an eviction finds it empty; and a publish still queued when the object dies was
 * never acked, so its client re-sends it.
 */
export class ConnectionQueue {
	readonly #tails = new Map<WebSocket, Promise<void>>();

	/**
	 * Runs `task` at once when nothing of `ws` is pending — returning what it returns, so a task
	 * that never awaits keeps the publish path synchronous — else after every pending one.
	 * `deferred` tells the task it did not run at once (what it read before is stale).
	 */
	run(ws: WebSocket, task: (deferred: boolean) => void | Promise<void>): void | Promise<void> {
		const tail = this.#tails.get(ws);
		const result = tail === undefined ? task(false) : tail.then(() => task(true));
		if (result === undefined) return;
		// Errors are the task's own business (it answers the publish); the chain only orders.
		const next = result.catch(() => undefined);
		this.#tails.set(ws, next);
		void next.then(() => {
			if (this.#tails.get(ws) === next) this.#tails.delete(ws);
		});
		return result;
	}

	/** True when a publish of `ws` is in progress or waiting. */
	busy(ws: WebSocket): boolean {
		return this.#tails.has(ws);
	}
}
