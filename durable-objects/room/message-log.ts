/**
 * The room's durable, gapless message log with dedupe records (CONTRACT.md §5, §7, §9, §13).
 * Every method is synchronous SQLite: a caller that sends an `ack` after `append` returns sends
 * it after the write, and the runtime's output gate holds the frame until the write is durable.
 *
 * Each row keeps the UTF-8 size of its `message` frame (`bytes`) and the running total of those
 * sizes up to and including it (`cum`). The kept log's size is then two numbers apart, so the
 * byte budget (HISTORY_MAX_BYTES) and a connection's send account (send-account.ts) cost O(1).
 */

import type { MessageFrame } from "../../protocol/messages.ts";
import { encodeBase64Url } from "../../src/core/auth/base64url.ts";
import { type Meta, MetaKey } from "./meta.ts";

export interface AppendInput {
	/** Dedupe scope: the session, or "http:<sub>" for HTTP publishes. */
	scope: string;
	id: string;
	from: string;
	data: unknown;
	now: number;
}

export interface AppendResult {
	seq: number;
	dup: boolean;
	/** The stored frame (absent for a duplicate: it was broadcast the first time). */
	frame?: MessageFrame;
	/** The frame as sent (its JSON text). */
	text?: string;
	/** The log's cumulative byte count after this message. */
	cum?: number;
}

export interface LogLimits {
	/** HISTORY_LIMIT: at least this many messages are kept (within the byte budget), at most twice. */
	historyLimit: number;
	/** HISTORY_MAX_BYTES: the kept messages' frames never add up to more (CONTRACT.md §13). */
	historyMaxBytes: number;
}

interface MessageRow {
	seq: number;
	id: string;
	sender: string;
	data: string;
	ts: number;
	[key: string]: SqlStorageValue;
}

/**
 * The `message` frame text of a stored row, spliced from its stored JSON: byte for byte what
 * `JSON.stringify` of the frame gives (same key order), without parsing `data` back.
 */
export function messageFrameText(seq: number, id: string, from: string, data: string, ts: number): string {
	return `{"type":"message","seq":${seq},"id":${JSON.stringify(id)},"from":${JSON.stringify(from)},"data":${data},"ts":${ts}}`;
}

/** A reusable buffer for UTF-8 sizes: a frame is at most a few times MAX_MESSAGE_BYTES. */
let scratch = new Uint8Array(1 << 16);
const encoder = new TextEncoder();

/** UTF-8 byte length of `text` without allocating per call. */
export function utf8Length(text: string): number {
	if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
	return encoder.encodeInto(text, scratch).written;
}

/**
 * The cumulative byte counts of the last RECENT_CUMS messages appended by this object, by seq: a
 * `read` names a seq the client just received, so its count is almost always here (no SELECT per
 * `read`). Per room object: 16 KiB.
 */
const RECENT_CUMS = 1024;

/** A ring of (seq → cumulative count) for the latest appends; a seq not in it is simply missed. */
class RecentCums {
	readonly #seqs = new Float64Array(RECENT_CUMS);
	readonly #cums = new Float64Array(RECENT_CUMS);

	note(seq: number, cum: number): void {
		const i = seq % RECENT_CUMS;
		this.#seqs[i] = seq;
		this.#cums[i] = cum;
	}

	/** The count noted for `seq`, or undefined. */
	get(seq: number): number | undefined {
		const i = seq % RECENT_CUMS;
		return seq > 0 && this.#seqs[i] === seq ? this.#cums[i] : undefined;
	}
}

/** The dedupe table is swept at most this often from `append` (the alarm sweeps it too). */
const DEDUPE_SWEEP_EVERY_MS = 60_000;

export class MessageLog {
	/** The lowest seq kept, remembered between appends (each checks it for pruning); undefined = read it. */
	#oldest: number | null | undefined = undefined;
	/** The cumulative byte count just before the oldest kept message; undefined = read it. */
	#oldestBase: number | undefined = undefined;
	/** Cumulative byte count at the head, once read (null: not read since construction). */
	#headCum: number | null = null;
	#lastDedupeSweep = 0;
	/** Made on the first append (a room that only serves reads of an old log needs none). */
	#recent: RecentCums | null = null;

	constructor(
		private readonly storage: DurableObjectStorage,
		private readonly meta: Meta,
		private readonly limits: LogLimits,
		private readonly resumeWindowMs: number,
	) {}

	private get sql(): SqlStorage {
		return this.storage.sql;
	}

	/** Highest seq ever assigned (0 for an empty room). */
	head(): number {
		return this.meta.getNumber(MetaKey.Seq) ?? 0;
	}

	/** Lowest seq still kept, or null when nothing is kept. */
	oldest(): number | null {
		if (this.#oldest === undefined) {
			const row = this.sql.exec<{ s: number | null }>("SELECT MIN(seq) AS s FROM _baton_messages").toArray()[0];
			this.#oldest = row?.s ?? null;
		}
		return this.#oldest;
	}

	/** Messages were written behind this object's back (a migration's import): read the oldest and the totals again. */
	forget(): void {
		this.#oldest = undefined;
		this.#oldestBase = undefined;
		this.#headCum = null;
		this.#recent = null;
	}

	/** The cumulative byte count before the oldest kept message (the head's when nothing is kept). */
	private oldestBase(): number {
		if (this.#oldestBase === undefined) {
			const first = this.sql.exec<{ cum: number; bytes: number }>("SELECT cum, bytes FROM _baton_messages ORDER BY seq LIMIT 1").toArray()[0];
			this.#oldestBase = first === undefined ? this.headCum() : first.cum - first.bytes;
		}
		return this.#oldestBase;
	}

	/**
	 * The log's epoch (CONTRACT.md §13): an opaque string made when the log is first used and
	 * kept with it — across restarts, evictions, and migrations (the copy carries it). A client
	 * whose `after` counts in another epoch was following another log.
	 */
	epoch(): string {
		const stored = this.meta.getString(MetaKey.Epoch);
		if (stored !== null) return stored;
		const made = encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)));
		this.meta.set(MetaKey.Epoch, made);
		return made;
	}

	/** The seq a (scope, id) pair was first accepted as, if it still has a dedupe record. */
	findDuplicate(scope: string, id: string, now: number): number | null {
		// A record older than RESUME_WINDOW_MS is void whether or not a sweep has dropped it yet.
		const row = this.sql
			.exec<{ seq: number }>("SELECT seq FROM _baton_dedupe WHERE session = ? AND id = ? AND ts >= ?", scope, id, now - this.resumeWindowMs)
			.toArray()[0];
		return row?.seq ?? null;
	}

	/** Cumulative byte count of every message up to the head. */
	headCum(): number {
		if (this.#headCum === null) {
			const row = this.sql.exec<{ cum: number }>("SELECT cum FROM _baton_messages ORDER BY seq DESC LIMIT 1").toArray()[0];
			this.#headCum = row?.cum ?? 0;
		}
		return this.#headCum;
	}

	/**
	 * Cumulative byte count at `seq`: exact for a kept seq and the head; for a seq no longer kept,
	 * the count just before the oldest kept message (a lower bound: an account measured from it
	 * can only come out larger, so a connection that far behind is never under-counted).
	 */
	cumAt(seq: number): number {
		if (seq >= this.head()) return this.headCum();
		const recent = this.#recent?.get(seq);
		if (recent !== undefined) return recent;
		const row = this.sql.exec<{ cum: number }>("SELECT cum FROM _baton_messages WHERE seq = ?", seq).toArray()[0];
		if (row !== undefined) return row.cum;
		return this.oldestBase();
	}

	/**
	 * Assigns the next seq and stores message + dedupe record + head in one transaction, or
	 * returns the first seq for a duplicate. Then prunes to the limits.
	 */
	append(input: AppendInput, deduped = false): AppendResult {
		// `deduped`: the caller looked the id up in this same event (no await since), so it is new.
		const existing = deduped ? null : this.findDuplicate(input.scope, input.id, input.now);
		if (existing !== null) return { seq: existing, dup: true };
		const data = JSON.stringify(input.data);
		try {
			return this.#appendNew(input, data);
		} catch (err) {
			// Rolled back: what memory holds of the head and the oldest may be ahead of storage.
			this.meta.forget(MetaKey.Seq);
			this.forget();
			throw err;
		}
	}

	#appendNew(input: AppendInput, data: string): AppendResult {
		const wasEmpty = this.oldest() === null;
		return this.storage.transactionSync(() => {
			const seq = this.head() + 1;
			const text = messageFrameText(seq, input.id, input.from, data, input.now);
			const bytes = utf8Length(text);
			const cum = this.headCum() + bytes;
			this.sql.exec(
				"INSERT INTO _baton_messages (seq, id, sender, data, ts, bytes, cum) VALUES (?, ?, ?, ?, ?, ?, ?)",
				seq,
				input.id,
				input.from,
				data,
				input.now,
				bytes,
				cum,
			);
			this.sql.exec("INSERT OR REPLACE INTO _baton_dedupe (session, id, seq, ts) VALUES (?, ?, ?, ?)", input.scope, input.id, seq, input.now);
			this.meta.set(MetaKey.Seq, seq);
			this.#headCum = cum;
			this.#recent ??= new RecentCums();
			this.#recent.note(seq, cum);
			if (wasEmpty) {
				this.#oldest = seq;
				this.#oldestBase = cum - bytes;
			}
			this.prune(seq, cum);
			if (input.now - this.#lastDedupeSweep >= DEDUPE_SWEEP_EVERY_MS) this.pruneDedupe(input.now);
			const frame: MessageFrame = { type: "message", seq, id: input.id, from: input.from, data: input.data, ts: input.now };
			return { seq, dup: false, frame, text, cum };
		});
	}

	/**
	 * Keeps at least the last HISTORY_LIMIT messages and at most twice that, and never more than
	 * HISTORY_MAX_BYTES of frames: the oldest go first. Under the byte budget the first kept seq
	 * is the one after the first whose running total reaches `cum − max`. Rows are walked from the
	 * oldest and each is deleted once, so the walk costs O(1) per append over time. The head
	 * itself always stays (only a budget set below one frame's size could ask otherwise), so the
	 * running total always has a row to continue from. The oldest seq and the total before it are
	 * remembered, so an append that prunes nothing reads no row for it.
	 */
	private prune(head: number, cum: number): void {
		const oldest = this.oldest();
		if (oldest === null) return;
		let cut = head - oldest + 1 > 2 * this.limits.historyLimit ? head - this.limits.historyLimit : oldest - 1;
		const threshold = cum - this.limits.historyMaxBytes;
		if (this.oldestBase() < threshold) {
			for (const row of this.sql.exec<{ seq: number; cum: number }>(
				"SELECT seq, cum FROM _baton_messages WHERE seq >= ? AND seq < ? ORDER BY seq",
				oldest,
				head,
			)) {
				cut = Math.max(cut, row.seq);
				if (row.cum >= threshold) break;
			}
		}
		if (cut >= oldest) {
			this.sql.exec("DELETE FROM _baton_messages WHERE seq <= ?", cut);
			this.#oldest = cut + 1;
			this.#oldestBase = undefined;
		}
	}

	/**
	 * The kept messages with seq > after (at most `limit`) as sent — seq, frame text and its UTF-8
	 * size — one row at a time from SQLite's cursor: a replay never holds the whole log in memory.
	 */
	*frames(after: number, limit = Number.MAX_SAFE_INTEGER): Generator<{ seq: number; text: string; bytes: number }> {
		const rows = this.sql.exec<MessageRow & { bytes: number }>(
			"SELECT seq, id, sender, data, ts, bytes FROM _baton_messages WHERE seq > ? ORDER BY seq LIMIT ?",
			after,
			limit,
		);
		for (const row of rows) yield { seq: row.seq, text: messageFrameText(row.seq, row.id, row.sender, row.data, row.ts), bytes: row.bytes };
	}

	/**
	 * Drops dedupe records older than RESUME_WINDOW_MS, whoever they belong to (CONTRACT.md §2: a
	 * dedupe record is valid for the window) — connected sessions and HTTP publishers included.
	 */
	pruneDedupe(now: number): void {
		this.#lastDedupeSweep = now;
		this.sql.exec("DELETE FROM _baton_dedupe WHERE ts < ?", now - this.resumeWindowMs);
	}

	/**
	 * Recomputes `bytes` and `cum` of every kept row, oldest first, then prunes to the limits:
	 * for rows written before these columns existed, and for rows a migration copied in.
	 */
	recountBytes(): void {
		this.storage.transactionSync(() => {
			let cum = 0;
			let head = 0;
			for (const row of this.sql.exec<MessageRow>("SELECT seq, id, sender, data, ts FROM _baton_messages ORDER BY seq").toArray()) {
				const bytes = utf8Length(messageFrameText(row.seq, row.id, row.sender, row.data, row.ts));
				cum += bytes;
				head = row.seq;
				this.sql.exec("UPDATE _baton_messages SET bytes = ?, cum = ? WHERE seq = ?", bytes, cum, row.seq);
			}
			this.forget();
			this.#headCum = cum;
			if (head > 0) this.prune(head, cum);
		});
	}
}
