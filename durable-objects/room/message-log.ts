/**
 * The room's durable, gapless message log with dedupe records (CONTRACT.md §5, §7, §9).
 * Every method is synchronous SQLite: a caller that sends an `ack` after `append` returns sends
 * it after the write, and the runtime's output gate holds the frame until the write is durable.
 */
import type { MessageFrame } from "../../protocol/messages.ts";
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
}

interface MessageRow {
	seq: number;
	id: string;
	sender: string;
	data: string;
	ts: number;
	[key: string]: SqlStorageValue;
}

function rowToFrame(row: MessageRow): MessageFrame {
	return { type: "message", seq: row.seq, id: row.id, from: row.sender, data: JSON.parse(row.data) as unknown, ts: row.ts };
}

export class MessageLog {
	/** The lowest seq kept, remembered between appends (each checks it for pruning); undefined = read it. */
	#oldest: number | null | undefined = undefined;

	constructor(
		private readonly storage: DurableObjectStorage,
		private readonly meta: Meta,
		private readonly historyLimit: number,
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

	/** Messages were written behind this object's back (a migration's import): read the oldest again. */
	forget(): void {
		this.#oldest = undefined;
	}

	/** The seq a (scope, id) pair was first accepted as, if it still has a dedupe record. */
	findDuplicate(scope: string, id: string): number | null {
		const row = this.sql.exec<{ seq: number }>("SELECT seq FROM _baton_dedupe WHERE session = ? AND id = ?", scope, id).toArray()[0];
		return row?.seq ?? null;
	}

	/**
	 * Assigns the next seq and stores message + dedupe record + head in one transaction, or
	 * returns the first seq for a duplicate. Prunes to HISTORY_LIMIT when the log reaches twice it.
	 */
	append(input: AppendInput, deduped = false): AppendResult {
		// `deduped`: the caller looked the id up in this same event (no await since), so it is new.
		const existing = deduped ? null : this.findDuplicate(input.scope, input.id);
		if (existing !== null) return { seq: existing, dup: true };
		const data = JSON.stringify(input.data);
		try {
			return this.#appendNew(input, data);
		} catch (err) {
			// Rolled back: what memory holds of the head and the oldest may be ahead of storage.
			this.meta.forget(MetaKey.Seq);
			this.#oldest = undefined;
			throw err;
		}
	}

	#appendNew(input: AppendInput, data: string): AppendResult {
		const wasEmpty = this.oldest() === null;
		return this.storage.transactionSync(() => {
			const seq = this.head() + 1;
			this.sql.exec("INSERT INTO _baton_messages (seq, id, sender, data, ts) VALUES (?, ?, ?, ?, ?)", seq, input.id, input.from, data, input.now);
			this.sql.exec("INSERT INTO _baton_dedupe (session, id, seq, ts) VALUES (?, ?, ?, ?)", input.scope, input.id, seq, input.now);
			this.meta.set(MetaKey.Seq, seq);
			if (wasEmpty) this.#oldest = seq;
			this.prune(seq);
			const frame: MessageFrame = { type: "message", seq, id: input.id, from: input.from, data: input.data, ts: input.now };
			return { seq, dup: false, frame };
		});
	}

	/** Keeps at least the last HISTORY_LIMIT messages and at most twice that. */
	private prune(head: number): void {
		const oldest = this.oldest();
		if (oldest !== null && head - oldest + 1 > 2 * this.historyLimit) {
			this.sql.exec("DELETE FROM _baton_messages WHERE seq <= ?", head - this.historyLimit);
			this.#oldest = head - this.historyLimit + 1;
		}
	}

	/** Kept messages with seq > after, ascending, at most `limit`. */
	range(after: number, limit: number): MessageFrame[] {
		return this.sql
			.exec<MessageRow>("SELECT seq, id, sender, data, ts FROM _baton_messages WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
			.toArray()
			.map(rowToFrame);
	}

	/** Drops dedupe records of scopes no longer resumable and HTTP ones older than the window. */
	pruneDedupe(now: number, resumeWindowMs: number): void {
		this.sql.exec(
			"DELETE FROM _baton_dedupe WHERE ts < ? AND (session LIKE 'http:%' OR session NOT IN (SELECT id FROM _baton_sessions WHERE expires_at IS NULL OR expires_at > ?))",
			now - resumeWindowMs,
			now,
		);
	}
}
