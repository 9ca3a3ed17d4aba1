interface UuidSource {
	randomUUID(): string;
}

function isUuidSource(value: unknown): value is UuidSource {
	return typeof value === "object" && value !== null && typeof Reflect.get(value, "randomUUID") === "function";
}

/**
 * Makes client message ids, unique per SDK instance: `crypto.randomUUID()` where the runtime has
 * it (browsers in secure contexts, Workers, Node), else time + counter + randomness. Both stay
 * within the 64-character limit of §5.
 */
export class IdSource {
	#count = 0;

	/** A fresh id. */
	next(): string {
		this.#count++;
		const crypto: unknown = Reflect.get(globalThis, "crypto");
		if (isUuidSource(crypto)) return crypto.randomUUID();
		return `${Date.now().toString(36)}-${this.#count.toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
	}
}
