/**
 * The room's one alarm (CONTRACT.md §2, §7, §12, STYLE.md 7), multiplexed over its jobs: the
 * socket sweep (heartbeat timeouts, token expiry, pruning), presence leaves whose grace ended, and
 * the throttled `presence_count`. Deadlines come from storage (attachments, presence rows) or from
 * this instance's memory of what it armed; the earliest is armed and one run does every due job,
 * then re-arms. A room with no sockets has no alarm pending.
 *
 * The sweep reads every attachment, so a run that is only for a due `presence_count` (at most one
 * a second in count mode) skips it while no socket can be due.
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { PresenceEntry } from "../../protocol/messages.ts";
import type { Disconnects } from "./disconnect.ts";
import { isSilentTooLong, type LivenessSettings, nextAlarmTime, silenceCheckTime, silenceDeadline, tokenDeadline } from "./liveness.ts";
import type { RoomState } from "./state.ts";

export class AlarmClock {
	/** When this instance last swept the sockets; null after a wake (the bound then comes from the deadline). */
	private lastSweep: number | null = null;
	/** The earliest socket deadline (silence, token) known since the last sweep; null = unknown. */
	#sweepAt: number | null = null;
	/** The alarm as this instance last armed it (null: none); undefined until read once. */
	#armed: number | null | undefined = undefined;

	constructor(
		private readonly state: RoomState,
		private readonly disconnects: Disconnects,
	) {}

	private get liveness(): LivenessSettings {
		return { intervalMs: this.state.config.heartbeatIntervalMs, timeoutMs: this.state.config.heartbeatTimeoutMs };
	}

	private get storage(): DurableObjectStorage {
		return this.state.ctx.storage;
	}

	/** A socket deadline (silence, token expiry): the sweep is due by then. */
	async armBy(deadline: number, now: number): Promise<void> {
		if (this.#sweepAt !== null) this.#sweepAt = Math.min(this.#sweepAt, deadline);
		await this.#arm(deadline, now);
	}

	/** A new socket: due by its silence deadline or its token's expiry, whichever is first. */
	async armForNewSocket(at: number, expSeconds: number): Promise<void> {
		const deadline = Math.min(silenceDeadline(at, this.liveness), tokenDeadline(expSeconds));
		if (this.#sweepAt !== null) this.#sweepAt = Math.min(this.#sweepAt, deadline);
		// Also any grace still to announce (after a wake, or closes no event has settled yet).
		await this.#arm(Math.min(deadline, this.disconnects.takeLeaveDeadline() ?? Number.POSITIVE_INFINITY), at);
	}

	/**
	 * After an event that may have closed sockets or changed presence (a close, a kick, a drain, a
	 * goodbye): disarmed when the room is empty; otherwise due by the grace a close started and by
	 * a throttled `presence_count`.
	 */
	async settle(now: number): Promise<void> {
		if (this.state.sockets.liveCount() === 0) return this.#disarm();
		await this.#arm(this.disconnects.takeLeaveDeadline() ?? Number.POSITIVE_INFINITY, now);
	}

	/**
	 * Arms for the earliest of `deadline` (bounded by the check cadence) and a due
	 * `presence_count` (not bounded: it is due within a second), unless already armed sooner.
	 */
	async #arm(deadline: number, now: number, fromAlarm = false): Promise<void> {
		const bounded = Number.isFinite(deadline) ? nextAlarmTime(deadline, this.lastSweep, now, this.liveness) : Number.POSITIVE_INFINITY;
		const countDue = this.state.feed.dueAt();
		const at = Math.min(bounded, countDue === null ? Number.POSITIVE_INFINITY : Math.max(countDue, now + 1));
		if (!Number.isFinite(at)) return;
		// A running alarm has consumed the one that was armed: it always re-arms. Otherwise the
		// armed time (read back once, then remembered) is kept when sooner.
		if (!fromAlarm) {
			this.#armed ??= await this.storage.getAlarm();
			if (this.#armed !== null && this.#armed <= at && this.#armed > now) return;
		}
		this.#armed = at;
		await this.storage.setAlarm(at);
	}

	async #disarm(): Promise<void> {
		if (this.#armed === null) return;
		this.#armed = null;
		await this.storage.deleteAlarm();
	}

	/**
	 * One alarm run. Alarms are at-least-once: this only reads stored state and re-arms from it,
	 * so a repeated run is harmless. Returns the presence leaves that fell due (already announced).
	 */
	async run(now: number): Promise<PresenceEntry[]> {
		const { state } = this;
		state.counters.countAlarmRun();
		// The alarm that fired is consumed; one called directly (a test, a retry) may still be set.
		this.#armed = undefined;
		// Each SQLite row written here is billed on every run of every idle room, so the run keeps
		// its sweep time in memory (it only bounds re-arming) and the armed time lives only in the
		// alarm itself, not in a row of its own.
		const countOnly = (state.feed.dueAt() ?? Number.POSITIVE_INFINITY) <= now && this.#sweepAt !== null && this.#sweepAt > now;
		if (!countOnly) this.#sweep(now);
		const leaves = state.presence.takeDueLeaves(now);
		state.feed.announceDepartures(leaves, now);
		state.feed.flush(now);
		this.disconnects.takeLeaveDeadline();
		if (state.sockets.liveCount() === 0) {
			await this.#disarm();
			return leaves;
		}
		const nextLeave = state.presence.nextLeaveAt();
		await this.#arm(Math.min(this.#sweepAt ?? Number.POSITIVE_INFINITY, nextLeave ?? Number.POSITIVE_INFINITY), now, true);
		return leaves;
	}

	/** Closes silent sockets (4008) and expired tokens (4001), prunes, and notes the next socket deadline. */
	#sweep(now: number): void {
		const { state, disconnects } = this;
		this.lastSweep = now;
		let earliest = Number.POSITIVE_INFINITY;
		const { live, unreadable } = state.sockets.scan();
		for (const ws of unreadable) disconnects.closeUnreadable(ws);
		for (const [ws, a] of live) {
			const auto = state.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
			const lastLife = Math.max(a.lastSeen, auto);
			if (isSilentTooLong(lastLife, now, this.liveness)) {
				state.counters.countHeartbeatTimeout();
				disconnects.close(ws, a, CloseCode.HeartbeatTimeout, { code: "heartbeat_timeout" });
				continue;
			}
			if (tokenDeadline(a.exp) <= now) {
				disconnects.close(ws, a, CloseCode.Unauthorized, { code: ErrorCode.Unauthorized });
				continue;
			}
			earliest = Math.min(earliest, silenceCheckTime(lastLife, this.liveness), tokenDeadline(a.exp));
		}
		this.#sweepAt = Number.isFinite(earliest) ? earliest : null;
		state.sessions.pruneExpired(now);
		state.log.pruneDedupe(now);
	}
}
