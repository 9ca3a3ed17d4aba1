/**
 * The opt-in `persist` option: what a page reload needs to resume its session with nothing lost
 * or delivered twice — the resume token, `lastSeq` and the unacknowledged publishes (each with
 * the id it was first sent under, so the room deduplicates a resend) — kept in a Web Storage–like
 * store, `sessionStorage` by default (per tab, survives a reload, gone with the tab).
 */

/** The slice of the Web Storage API `persist` uses (`sessionStorage`, `localStorage` or your own). */
export interface StorageLike {
	getItem(key: string): string | null;
	setItem(key: string, value: string): void;
	removeItem(key: string): void;
}

/** Options of `persist`. */
export interface PersistOptions {
	/** Where to keep the state; defaults to `globalThis.sessionStorage`. */
	storage?: StorageLike;
	/** Storage key; defaults to `baton:<first endpoint>:<room>`. Give two rooms of one tab different keys. */
	key?: string;
}

/** One saved publish: its id and the exact frame that was (or will be) sent. */
export interface SavedPublish {
	id: string;
	frame: string;
}

/** What is saved, as JSON under one key. */
export interface SavedSession {
	/** The `sub` of the token the session belongs to (read unverified); a different user does not inherit it. */
	sub: string | null;
	resume: string | null;
	lastSeq: number | null;
	/** The log epoch `lastSeq` counts in; null when unknown (saved before epochs, or never welcomed). */
	epoch: string | null;
	outbox: SavedPublish[];
}

const VERSION = 1;

/** The default store: `sessionStorage` where the runtime has one (browsers), else none. */
export function defaultStorage(): StorageLike | undefined {
	try {
		const candidate: unknown = Reflect.get(globalThis, "sessionStorage");
		return isStorage(candidate) ? candidate : undefined;
	} catch {
		// Reading sessionStorage throws in some sandboxed frames.
		return undefined;
	}
}

function isStorage(value: unknown): value is StorageLike {
	return (
		typeof value === "object" &&
		value !== null &&
		typeof Reflect.get(value, "getItem") === "function" &&
		typeof Reflect.get(value, "setItem") === "function" &&
		typeof Reflect.get(value, "removeItem") === "function"
	);
}

/** The default key for a room on an endpoint. */
export function defaultPersistKey(endpoint: string, room: string): string {
	return `baton:${endpoint}:${room}`;
}

/**
 * Reads and writes one saved session. Reads validate and return null for anything unreadable
 * (another version, hand-edited, corrupted); writes never throw (a full store is reported
 * through `onError` and the session simply is not saved).
 */
export class SessionStore {
	readonly #storage: StorageLike;
	readonly #key: string;
	readonly #onError: (message: string) => void;

	constructor(storage: StorageLike, key: string, onError: (message: string) => void) {
		this.#storage = storage;
		this.#key = key;
		this.#onError = onError;
	}

	load(): SavedSession | null {
		let text: string | null;
		try {
			text = this.#storage.getItem(this.#key);
		} catch (error) {
			this.#onError(`could not read the saved session: ${messageOf(error)}`);
			return null;
		}
		if (text === null) return null;
		try {
			return parseSaved(JSON.parse(text));
		} catch {
			return null;
		}
	}

	save(session: SavedSession): void {
		try {
			this.#storage.setItem(this.#key, JSON.stringify({ v: VERSION, ...session }));
		} catch (error) {
			this.#onError(`could not save the session: ${messageOf(error)}`);
		}
	}
}

function parseSaved(value: unknown): SavedSession | null {
	if (typeof value !== "object" || value === null || Reflect.get(value, "v") !== VERSION) return null;
	const sub: unknown = Reflect.get(value, "sub");
	const resume: unknown = Reflect.get(value, "resume");
	const lastSeq: unknown = Reflect.get(value, "lastSeq");
	const outbox: unknown = Reflect.get(value, "outbox");
	// Sessions saved before epochs have none.
	const epoch: unknown = Reflect.get(value, "epoch") ?? null;
	if (!(sub === null || typeof sub === "string")) return null;
	if (!(resume === null || typeof resume === "string")) return null;
	if (!(lastSeq === null || (typeof lastSeq === "number" && Number.isSafeInteger(lastSeq) && lastSeq >= 0))) return null;
	if (!(epoch === null || typeof epoch === "string")) return null;
	if (!Array.isArray(outbox)) return null;
	const publishes: SavedPublish[] = [];
	for (const item of outbox) {
		const id: unknown = typeof item === "object" && item !== null ? Reflect.get(item, "id") : undefined;
		const frame: unknown = typeof item === "object" && item !== null ? Reflect.get(item, "frame") : undefined;
		if (typeof id !== "string" || typeof frame !== "string") return null;
		publishes.push({ id, frame });
	}
	return { sub, resume, lastSeq, epoch, outbox: publishes };
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
