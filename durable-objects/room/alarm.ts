/**
 * The room's one alarm (CONTRACT.md §2, §7, STYLE.md 7): deadlines come from storage (socket
 * attachments, presence rows, dedupe records), the earliest is armed, and one run does every due
 * job — heartbeat timeouts, token expiry, presence leaves, pruning — then re-arms. A room with no
 * sockets has no alarm pending, except for the expiry of its dedupe records: those are valid for
 * RESUME_WINDOW_MS and then dropped by age (§2), sockets or not, so a room that was published to
 * keeps one alarm until the last of them expired.
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { PresenceEntry } from "../../protocol/messages.ts";
import type { Disconnects } from "./disconnect.ts";
import { isSilentTooLong, type LivenessSettings, nextAlarmTime, silenceCheckTime, silenceDeadline, tokenDeadline } from "./liveness.ts";
import type { RoomState } from "./state.ts";

export class AlarmClock {
	/** When this instance last ran the alarm; null after a wake (the bound then comes from the deadline). */
	private lastRun: number | null = null;

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

	/** Arms the alarm for `deadline` unless it is already armed sooner. */
	async armBy(deadline: number, now: number, fromAlarm = false): Promise<void> {
		const at = nextAlarmTime(deadline, this.lastRun, now, this.liveness);
		// A running alarm has consumed the one that was armed: it always re-arms. Otherwise the
		// armed time is read back (a storage read, not a billed row write) and kept when sooner.
		if (!fromAlarm) {
			const armed = await this.storage.getAlarm();
			if (armed !== null && armed <= at && armed > now) return;
		}
		await this.storage.setAlarm(at);
	}

	/** A new socket: due by its silence deadline or its token's expiry, whichever is first. */
	async armForNewSocket(at: number, expSeconds: number): Promise<void> {
		await this.armBy(Math.min(silenceDeadline(at, this.liveness), tokenDeadline(expSeconds)), at);
	}

	/**
	 * After a socket is gone: disarmed when the room is empty; otherwise due by the next presence
	 * leave (else that leave would wait for the next heartbeat deadline, up to a timeout later).
	 * Every close the room sends is answered by the peer, so this runs for those too.
	 */
	async settleAfterClose(now: number): Promise<void> {
		if (await this.settleIfEmpty(now)) return;
		const leaveAt = this.state.presence.nextLeaveAt();
		if (leaveAt !== null) await this.armBy(leaveAt, now);
	}

	/**
	 * A room with no sockets has no alarm pending (CONTRACT.md §7) — but for its next dedupe
	 * expiry. True when the room is empty (and settled so).
	 */
	async settleIfEmpty(now: number, fromAlarm = false): Promise<boolean> {
		if (this.state.sockets.live().length > 0) return false;
		const expiry = this.state.log.nextDedupeExpiry();
		if (expiry === null) await this.storage.deleteAlarm();
		else await this.armBy(expiry, now, fromAlarm);
		return true;
	}

	/**
	 * After an HTTP publish: a room without sockets has no heartbeat alarm, so its new dedupe
	 * record would never be pruned; arm for its expiry. With sockets the next run covers it.
	 */
	async armForDedupe(now: number): Promise<void> {
		if (this.state.sockets.openCount() > 0) return;
		await this.settleIfEmpty(now);
	}

	/**
	 * One alarm run. Alarms are at-least-once: this only reads stored state and re-arms from it,
	 * so a repeated run is harmless. Returns the presence leaves that fell due, for the caller to
	 * announce.
	 */
	async run(now: number): Promise<PresenceEntry[]> {
		const { state, disconnects } = this;
		state.counters.countAlarmRun();
		// Each SQLite row written here is billed on every run of every idle room, so the run keeps
		// its last-run time in memory (it only bounds re-arming within this run) and the armed time
		// lives only in the alarm itself (`getAlarm()`), not in a row of its own.
		this.lastRun = now;
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
		const leaves = state.presence.takeDueLeaves(now);
		state.sessions.pruneExpired(now);
		state.log.pruneDedupe(now);
		if (await this.settleIfEmpty(now, true)) return leaves;
		const nextLeave = state.presence.nextLeaveAt();
		if (nextLeave !== null) earliest = Math.min(earliest, nextLeave);
		const nextExpiry = state.log.nextDedupeExpiry();
		if (nextExpiry !== null) earliest = Math.min(earliest, nextExpiry);
		if (Number.isFinite(earliest)) await this.armBy(earliest, now, true);
		return leaves;
	}
}
