/**
 * A room's anchor: one small object per room name that holds only the pointer to the room's
 * current home (region + object generation) and runs migrations (CONTRACT.md §8). Gateways in
 * every region ask it (and cache the answer briefly), so there is no global single point of
 * failure or hot spot: each room's anchor is its own object.
 *
 * A migration is a durable, resumable sequence: freeze the old home → copy its state to the new
 * generation → flip the pointer → tell the old home to move its sockets (4010) and wipe itself.
 * If the process dies in the middle, `recover()` (run by the anchor's alarm and before any
 * resolve) rolls back an unflipped copy, or finishes a flipped one: the room always ends up
 * served from exactly one home with every acked message.
 *
 * A step that does not answer within MIGRATION_STEP_TIMEOUT_MS (CONTRACT.md §13) before the
 * pointer flips fails the migration: the old home is unfrozen and serves on, and `migrate`
 * answers `migration_failed`. After the flip a migration only rolls forward, retried by the
 * alarm until the old home has told its sockets to move.
 */
import { DurableObject } from "cloudflare:workers";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { BindingName, configEnv, namespaceOf } from "../../src/core/bindings.ts";
import { ConfigName, readConfig } from "../../src/core/config.ts";
import { log } from "../../src/core/log.ts";
import { type RoomTarget, roomStub } from "../../src/core/routing.ts";
import { registryStub } from "../registry/registry.ts";
import type { BatonRoom } from "../room/baton-room.ts";
import { type Migration, migrate } from "../schema-migrations.ts";
import { copyRoom } from "./copy.ts";
import { step } from "./step.ts";

/** The anchor's schema, as numbered migrations (../schema-migrations.ts). */
const ANCHOR_MIGRATIONS: readonly Migration[] = [
	{
		version: 1,
		why: "the route table as anchors had it before the schema was versioned",
		statements: [
			`CREATE TABLE IF NOT EXISTS route (id INTEGER PRIMARY KEY CHECK (id = 1), room TEXT NOT NULL, home TEXT NOT NULL, gen INTEGER NOT NULL,
			 max_gen INTEGER NOT NULL DEFAULT 0, mig_from TEXT, mig_from_gen INTEGER, mig_to TEXT, mig_gen INTEGER, mig_phase TEXT, touched_at INTEGER NOT NULL)`,
		],
	},
];

/** How soon a crashed migration is recovered by the anchor's alarm. */
const RECOVERY_DELAY_MS = 5_000;
const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
/** Registry touches are throttled: the registry lists rooms active within the resume window. */
const REGISTRY_TOUCH_INTERVAL_MS = 60_000;

type Phase = "copying" | "flipped";

const CLEAR_MIGRATION = "UPDATE route SET mig_from = NULL, mig_from_gen = NULL, mig_to = NULL, mig_gen = NULL, mig_phase = NULL WHERE id = 1";

interface RouteRow {
	room: string;
	home: string;
	gen: number;
	/** Highest generation ever started: a retried migration never reuses a rolled-back object. */
	max_gen: number;
	mig_from: string | null;
	mig_from_gen: number | null;
	mig_to: string | null;
	mig_gen: number | null;
	mig_phase: Phase | null;
	touched_at: number;
	[key: string]: SqlStorageValue;
}

type RoomStub = DurableObjectStub<BatonRoom<unknown>>;

export type MigrateResult = { ok: true; from: string; to: string; seq: number; moved: number } | { ok: false; code: ErrorCode };

/**
 * The per-room anchor Durable Object: where each room lives, and its migrations. An app exports
 * it unchanged and binds it as `ANCHORS` (with SQLite storage).
 *
 * @example
 * // src/index.ts
 * export { RoomAnchor } from "baton-rooms/server";
 * // wrangler.toml
 * // [[durable_objects.bindings]]
 * // name = "ANCHORS"
 * // class_name = "RoomAnchor"
 */
export class RoomAnchor extends DurableObject<unknown> {
	/** In-memory only: a migration this instance is running right now (a crash forgets it, on purpose). */
	private running: Promise<unknown> | null = null;

	constructor(ctx: DurableObjectState, env: unknown) {
		super(ctx, env);
		migrate(ctx.storage, ANCHOR_MIGRATIONS);
	}

	/** Generation `target` of `room`: the room classes share one binding, whatever the app calls its class. */
	private roomStub(room: string, target: RoomTarget): DurableObjectStub<BatonRoom<unknown>> {
		return roomStub({ ROOMS: namespaceOf<BatonRoom<unknown>>(this.env, BindingName.Rooms) }, room, target);
	}

	private row(): RouteRow | null {
		return this.ctx.storage.sql.exec<RouteRow>("SELECT * FROM route WHERE id = 1").toArray()[0] ?? null;
	}

	/** The room's current target; a new room is homed at `homeHint`. */
	async resolve(room: string, homeHint: string): Promise<RoomTarget> {
		let row = this.row();
		if (row === null) {
			this.ctx.storage.sql.exec("INSERT INTO route (id, room, home, gen, touched_at) VALUES (1, ?, ?, 0, 0)", room, homeHint);
			log.info("room_homed", { room, home: homeHint });
			row = this.row();
		}
		if (row === null) throw new Error("anchor row missing");
		if (row.mig_phase !== null && this.running === null) row = (await this.recover()) ?? row;
		this.touchRegistry(row);
		return { home: row.home, gen: row.gen };
	}

	private touchRegistry(row: RouteRow): void {
		const now = Date.now();
		if (now - row.touched_at < REGISTRY_TOUCH_INTERVAL_MS) return;
		this.ctx.storage.sql.exec("UPDATE route SET touched_at = ? WHERE id = 1", now);
		this.ctx.waitUntil(
			registryStub(this.env, row.room)
				.touch(row.room, now)
				.catch(() => undefined),
		);
	}

	/** Moves the room's home to `to`. Migrations of one room run one at a time. */
	async migrate(room: string, to: string): Promise<MigrateResult> {
		while (this.running !== null) await this.running.catch(() => undefined);
		const run = this.runMigration(room, to);
		this.running = run;
		try {
			return await run;
		} finally {
			this.running = null;
		}
	}

	private async runMigration(room: string, to: string): Promise<MigrateResult> {
		if (!readConfig(configEnv(this.env)).regions.includes(to as never)) return { ok: false, code: ErrorCode.BadRegion };
		if (this.row() === null) await this.resolve(room, to);
		if (this.row()?.mig_phase) await this.recover();
		const row = this.row();
		if (row === null) throw new Error("anchor row missing");
		if (row.home === to) return { ok: false, code: ErrorCode.AlreadyThere };

		const from: RoomTarget = { home: row.home, gen: row.gen };
		// A fresh generation per attempt: location hints only apply when an object is created, so an
		// object left behind by a rolled-back attempt (possibly created elsewhere) is never reused.
		const next: RoomTarget = { home: to, gen: Math.max(row.gen, row.max_gen) + 1 };
		this.ctx.storage.sql.exec(
			"UPDATE route SET max_gen = ?, mig_from = ?, mig_from_gen = ?, mig_to = ?, mig_gen = ?, mig_phase = 'copying' WHERE id = 1",
			next.gen,
			from.home,
			from.gen,
			next.home,
			next.gen,
		);
		await this.ctx.storage.setAlarm(Date.now() + RECOVERY_DELAY_MS);
		log.info("migrate_start", { room, from: from.home, to, gen: next.gen });

		const oldRoom = this.roomStub(room, from);
		const newRoom = this.roomStub(room, next);
		let seq: number;
		try {
			seq = await this.copy(room, from, oldRoom, newRoom, next);
		} catch (error) {
			return this.rollBack(room, from, to, error);
		}
		await this.faultPause();

		this.ctx.storage.sql.exec("UPDATE route SET home = ?, gen = ?, mig_phase = 'flipped' WHERE id = 1", next.home, next.gen);
		let moved = 0;
		try {
			moved = (await step("completeMove", oldRoom.completeMove(next))).moved;
		} catch (error) {
			// Flipped: the room is served from its new home already. The alarm (armed above) finishes
			// telling the old home's sockets to move; nothing is rolled back any more.
			log.warn("migrate_roll_forward_pending", { room, from: from.home, to, error: reasonOf(error) });
			return { ok: true, from: from.home, to, seq, moved };
		}
		this.ctx.storage.sql.exec(CLEAR_MIGRATION);
		await this.ctx.storage.deleteAlarm();
		this.ctx.waitUntil(
			registryStub(this.env, room)
				.touch(room, Date.now())
				.catch(() => undefined),
		);
		log.info("migrate_done", { room, from: from.home, to, seq, moved });
		return { ok: true, from: from.home, to, seq, moved };
	}

	/** Steps 1–3: freeze the old home and copy its state into the next generation; each step within the timeout. Returns the seq head. */
	private async copy(room: string, from: RoomTarget, oldRoom: RoomStub, newRoom: RoomStub, next: RoomTarget): Promise<number> {
		const { seq, epoch } = await step("freeze", oldRoom.freeze(room));
		await step("importBegin", newRoom.importBegin(room, next.home, next.gen));
		const copied = await copyRoom(room, oldRoom, newRoom, step);
		await step("importFinish", newRoom.importFinish(seq, epoch));
		log.info("migrate_copied", { room, from: from.home, to: next.home, gen: next.gen, seq, pages: copied.pages, legacy: copied.legacy });
		return seq;
	}

	/**
	 * A step failed before the flip: the old home is unfrozen and serves on. If even that does not
	 * answer, the route stays marked and the alarm retries the rollback (recover()).
	 */
	private async rollBack(room: string, from: RoomTarget, to: string, error: unknown): Promise<MigrateResult> {
		log.warn("migrate_failed", { room, from: from.home, to, error: reasonOf(error) });
		try {
			await step("unfreeze", this.roomStub(room, from).unfreeze());
			this.ctx.storage.sql.exec(CLEAR_MIGRATION);
			await this.ctx.storage.deleteAlarm();
		} catch (unfreezeError) {
			log.warn("migrate_rollback_pending", { room, from: from.home, to, error: reasonOf(unfreezeError) });
		}
		return { ok: false, code: ErrorCode.MigrationFailed };
	}

	/** Test-only fault injection: a pause between copy and flip, so a test can kill the process there. */
	private async faultPause(): Promise<void> {
		const ms = Number(configEnv(this.env)[ConfigName.FaultPauseBeforeFlipMs] ?? 0);
		if (Number.isFinite(ms) && ms > 0) await new Promise((r) => setTimeout(r, ms));
	}

	/**
	 * Finishes what a crashed migration left: before the flip, the old home is unfrozen and keeps
	 * serving (the partial copy is abandoned and overwritten by the next attempt); after the flip,
	 * the old home is told to move its sockets and wipe itself.
	 */
	private async recover(): Promise<RouteRow | null> {
		const row = this.row();
		if (row === null || row.mig_phase === null || row.mig_from === null || row.mig_from_gen === null || row.mig_to === null || row.mig_gen === null) return row;
		const room = row.room;
		const old = this.roomStub(room, { home: row.mig_from, gen: row.mig_from_gen });
		try {
			if (row.mig_phase === "copying") {
				await step("unfreeze", old.unfreeze());
				log.warn("migrate_rolled_back", { room, from: row.mig_from, to: row.mig_to });
			} else {
				await step("completeMove", old.completeMove({ home: row.mig_to, gen: row.mig_gen }));
				log.warn("migrate_rolled_forward", { room, from: row.mig_from, to: row.mig_to });
			}
		} catch (error) {
			// The old home did not answer: try again later. The route is right meanwhile (it flips
			// only once the copy is complete), so resolving goes on.
			log.warn("migrate_recovery_pending", { room, phase: row.mig_phase, error: reasonOf(error) });
			await this.ctx.storage.setAlarm(Date.now() + RECOVERY_DELAY_MS);
			return row;
		}
		this.ctx.storage.sql.exec(CLEAR_MIGRATION);
		return this.row();
	}

	override async alarm(): Promise<void> {
		if (this.running !== null) {
			await this.ctx.storage.setAlarm(Date.now() + RECOVERY_DELAY_MS);
			return;
		}
		await this.recover();
	}
}
