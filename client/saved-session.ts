import { MessageType, parseClientFrame } from "../protocol/index.ts";
import { BatonError, ClientErrorCode } from "./errors.ts";
import type { Outbox } from "./outbox.ts";
import type { SavedPublish, SavedSession, SessionStore } from "./persist.ts";

/**
 * Writes the saved session (`persist`) at most once per microtask, however many changes a burst
 * brought (a replay of hundreds of messages is one write). `detach()` stops all writes: a room
 * closed before it ever dialed leaves the saved session exactly as it found it.
 */
export class SessionWriter {
	#store: SessionStore | null;
	#pending = false;
	readonly #snapshot: () => SavedSession;

	constructor(store: SessionStore | null, snapshot: () => SavedSession) {
		this.#store = store;
		this.#snapshot = snapshot;
	}

	saveSoon(): void {
		if (this.#store === null || this.#pending) return;
		this.#pending = true;
		queueMicrotask(() => {
			this.#pending = false;
			this.#store?.save(this.#snapshot());
		});
	}

	detach(): void {
		this.#store = null;
	}
}

/**
 * Puts saved publishes back in the outbox under their original ids (so the room deduplicates a
 * resend), marked `restored`. Nobody holds their promises: a failure other than the room
 * closing is handed to `onFailure` (the connection's `error` event). Unreadable entries are skipped.
 */
export function restorePublishes(
	outbox: Outbox,
	saved: readonly SavedPublish[],
	timeoutMs: number | undefined,
	onFailure: (id: string, error: BatonError) => void,
): void {
	for (const { id, frame } of saved) {
		const parsed = parseClientFrame(frame);
		if (!parsed.ok || parsed.value.type !== MessageType.Publish || parsed.value.id !== id || outbox.has(id)) continue;
		const { settled } = outbox.add(id, frame, { data: parsed.value.data, restored: true, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
		settled.catch((error: BatonError) => {
			if (error.code !== ClientErrorCode.Closed && error.code !== ClientErrorCode.Aborted) onFailure(id, error);
		});
	}
}

/** Rejects the restored publishes (the saved session belonged to someone else). */
export function dropRestored(outbox: Outbox): void {
	outbox.failAll(new BatonError(ClientErrorCode.Closed, "saved by another user"), (entry) => entry.restored);
}
