/**
 * Named one-shot timers. Every delay the SDK waits on (reconnect, connect timeout, heartbeat
 * ping and deadline, rate-limit retry) lives here under a name, so setting one replaces the old
 * one and `clearAll()` leaves nothing behind after `close()`.
 */
export class Timers<Name extends string> {
	#handles = new Map<Name, ReturnType<typeof setTimeout>>();

	/** Runs `fn` after `ms`, replacing any timer already set under `name`. */
	set(name: Name, ms: number, fn: () => void): void {
		this.clear(name);
		const handle = setTimeout(() => {
			this.#handles.delete(name);
			fn();
		}, ms);
		this.#handles.set(name, handle);
	}

	/** True while a timer is pending under `name`. */
	has(name: Name): boolean {
		return this.#handles.has(name);
	}

	/** Cancels the timer under `name`, if any. */
	clear(name: Name): void {
		const handle = this.#handles.get(name);
		if (handle === undefined) return;
		clearTimeout(handle);
		this.#handles.delete(name);
	}

	/** Cancels every pending timer. */
	clearAll(): void {
		for (const handle of this.#handles.values()) clearTimeout(handle);
		this.#handles.clear();
	}
}
