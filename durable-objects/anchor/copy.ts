/**
 * The anchor's side of a migration's copy: pages from the frozen old home into the new one until
 * the old home says it is done (durable-objects/room/transfer.ts). A room that does not know that
 * copy yet (the previous version, during a gradual deploy) gets the previous one: baton's tables
 * by their old names (legacy-transfer.ts) — then the app's tables and key-value storage cannot
 * move, which the log says.
 */
import { log } from "../../src/core/log.ts";
import type { BatonRoom } from "../room/baton-room.ts";
import { LEGACY_TABLE_NAMES } from "../room/legacy-transfer.ts";
import { TRANSFER_START, type TransferCursor } from "../room/transfer.ts";
import { type Step, StepTimeout } from "./step.ts";

type RoomStub = DurableObjectStub<BatonRoom<unknown>>;

export interface CopyReport {
	pages: number;
	/** The previous version's copy was used (one side did not know the current one). */
	legacy: boolean;
}

/** Every call to a room is one `step` (bounded in time before the flip, anchor.ts). */
export async function copyRoom(room: string, from: RoomStub, to: RoomStub, step: Step): Promise<CopyReport> {
	let cursor: TransferCursor | null = TRANSFER_START;
	let pages = 0;
	while (cursor !== null) {
		try {
			const at: TransferCursor = cursor;
			const page = await step("exportChunk", from.exportChunk(at));
			await step("importChunk", to.importChunk(page.chunk));
			cursor = page.next;
		} catch (error) {
			// Only the first page tells an older room apart; any later failure fails the migration.
			// A step that timed out is a hung room, not an older one.
			if (pages > 0 || error instanceof StepTimeout) throw error;
			log.warn("migrate_copy_legacy", { room, error: error instanceof Error ? error.message : String(error) });
			return { pages: await copyLegacy(from, to, step), legacy: true };
		}
		pages++;
	}
	return { pages, legacy: false };
}

async function copyLegacy(from: RoomStub, to: RoomStub, step: Step): Promise<number> {
	let pages = 0;
	for (const table of LEGACY_TABLE_NAMES) {
		let cursor: number | null = 0;
		while (cursor !== null) {
			const at: number = cursor;
			const page = await step(`exportTable ${table}`, from.exportTable(table, at));
			if (page.rows.length > 0) await step(`importTable ${table}`, to.importTable(table, page.rows));
			pages++;
			cursor = page.next;
		}
	}
	return pages;
}
