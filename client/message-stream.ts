import type { MessageFrame } from "../protocol/index.ts";
import { BatonError, ClientErrorCode } from "./errors.ts";
import { onAbort, type SignalLike } from "./signal.ts";

/** Default for {@link MessagesOptions.bufferSize}. */
export const DEFAULT_STREAM_BUFFER = 1000;

/** Options of `room.messages()`. */
export interface MessagesOptions {
	/**
	 * Messages held for a loop that has not asked for them yet. Default 1000. One more than that
	 * ends the iterator with a `buffer_overflow` error (after the buffered ones): a consumer that
	 * falls behind learns it, rather than silently missing messages. Catch up with `room.history()`.
	 */
	bufferSize?: number;
	/** Aborting it ends the iterator with an `aborted` error. */
	signal?: SignalLike;
}

type Waiter<T> = { resolve(result: IteratorResult<MessageFrame<T>>): void; reject(error: BatonError): void };

/**
 * The async iterator behind `room.messages()`: a bounded queue between the room's `message`
 * events and a `for await` loop. It ends (done) when the room is closed, or throws once — the
 * error of a room that stopped on an error close, `buffer_overflow` or `aborted` — after handing
 * out what was already buffered; breaking out of the loop detaches it.
 */
export class MessageStream<T> implements AsyncIterableIterator<MessageFrame<T>> {
	readonly #bufferSize: number;
	readonly #detach: () => void;
	#queue: MessageFrame<T>[] = [];
	#waiters: Waiter<T>[] = [];
	/** Set once the stream stops taking messages; `error` is thrown once the queue is drained. */
	#end: { error: BatonError | null } | null = null;

	constructor(bufferSize: number, detach: () => void) {
		this.#bufferSize = bufferSize;
		this.#detach = detach;
	}

	/** Messages buffered and not yet taken. */
	get buffered(): number {
		return this.#queue.length;
	}

	/** Offers one delivered message. */
	push(message: MessageFrame<T>): void {
		if (this.#end !== null) return;
		const waiter = this.#waiters.shift();
		if (waiter !== undefined) {
			waiter.resolve({ value: message, done: false });
			return;
		}
		if (this.#queue.length >= this.#bufferSize) {
			const last = this.#queue.at(-1)?.seq ?? message.seq - 1;
			this.end(
				new BatonError(ClientErrorCode.BufferOverflow, `the loop fell more than ${this.#bufferSize} messages behind; the last one buffered is seq ${last}`),
			);
			return;
		}
		this.#queue.push(message);
	}

	/** Stops taking messages: the loop gets what is buffered, then `error` (or done). Idempotent. */
	end(error: BatonError | null): void {
		if (this.#end !== null) return;
		this.#end = { error };
		this.#detach();
		// Waiters exist only while the queue is empty.
		for (const waiter of this.#waiters.splice(0)) this.#finish(waiter);
	}

	next(): Promise<IteratorResult<MessageFrame<T>>> {
		const value = this.#queue.shift();
		if (value !== undefined) return Promise.resolve({ value, done: false });
		if (this.#end !== null) {
			return new Promise((resolve, reject) => this.#finish({ resolve, reject }));
		}
		return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
	}

	/** Called by `break` / `return` in a `for await` loop: detaches and drops the buffer. */
	return(): Promise<IteratorResult<MessageFrame<T>>> {
		this.end(null);
		this.#queue = [];
		return Promise.resolve({ value: undefined, done: true });
	}

	[Symbol.asyncIterator](): MessageStream<T> {
		return this;
	}

	#finish(waiter: Waiter<T>): void {
		const error = this.#end?.error ?? null;
		if (error === null) {
			waiter.resolve({ value: undefined, done: true });
			return;
		}
		// Thrown once; the iterator is done afterwards.
		if (this.#end !== null) this.#end.error = null;
		waiter.reject(error);
	}
}

/** The room's open `messages()` iterators: each delivered message goes to all of them. */
export class MessageStreams<T> {
	#streams = new Set<MessageStream<T>>();
	/** Set when the room closed: later iterators end at once, with `error` when there was one. */
	#ended: { error: BatonError | null } | null = null;

	/** A new iterator; see `room.messages()`. @throws TypeError for a bufferSize that could never work. */
	open(options: MessagesOptions): MessageStream<T> {
		const bufferSize = options.bufferSize ?? DEFAULT_STREAM_BUFFER;
		if (!(Number.isSafeInteger(bufferSize) && bufferSize >= 1)) throw new TypeError("baton: `bufferSize` must be a positive integer");
		let stopListening = (): void => undefined;
		const stream = new MessageStream<T>(bufferSize, () => {
			this.#streams.delete(stream);
			stopListening();
		});
		if (this.#ended !== null) {
			stream.end(this.#ended.error);
			return stream;
		}
		this.#streams.add(stream);
		stopListening = onAbort(options.signal, () => stream.end(new BatonError(ClientErrorCode.Aborted, "the messages() signal was aborted")));
		return stream;
	}

	push(message: MessageFrame<T>): void {
		for (const stream of this.#streams) stream.push(message);
	}

	/** The room closed: every iterator ends (throwing `error` when there is one). */
	end(error: BatonError | null): void {
		this.#ended = { error };
		for (const stream of [...this.#streams]) stream.end(error);
	}
}
