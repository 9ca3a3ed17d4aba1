/**
 * Injects one fault of each kind against the cluster, through public surfaces only: SIGKILL of
 * processes, the admin API, a client's network. Each returns its entry for the fault log and
 * starts the recovery clock over the clients it hits.
 */
import { CLUSTER_REGIONS, type ClusterRegion, type RegionCluster } from "../test/e2e/harness/cluster.ts";
import { call } from "./admin.ts";
import type { Failure } from "./checker.ts";
import type { ChaosClient } from "./clients/client.ts";
import type { SdkClient } from "./clients/sdk-client.ts";
import type { LogWatch } from "./log-watch.ts";
import { chance, int, pick, type Random } from "./prng.ts";
import type { RecoveryClock, Timed } from "./recovery.ts";
import { FaultKind, type ScheduledKind } from "./schedule.ts";

/** Share of crashed migrations killed right after the copy (the testing pause); the rest at a random moment. */
const AT_PAUSE_SHARE = 0.7;
/** How long to wait for the `migrate_copied` log line of a migration about to be crashed. */
const COPIED_TIMEOUT_MS = 20_000;
/** How long to wait, in the background, for the log line saying how a crashed migration was recovered. */
const RECOVERED_TIMEOUT_MS = 30_000;
/** Most clients offline at once. */
const MAX_OFFLINE = 2;

export interface FaultRecord extends Timed {
	n: number;
	kind: FaultKind;
	/** ms since the run started. */
	atMs: number;
	/** How long the injection took (a restart, an admin call). */
	ms: number;
	detail: Record<string, unknown>;
	/** An injection that did not go as planned (a refused migration): noted, not a failure by itself. */
	note?: string;
}

export interface FaultContext {
	cluster: RegionCluster;
	random: Random;
	rooms: readonly string[];
	/** Incarnations that are active now. */
	clients(): ChaosClient[];
	sdkClients(): SdkClient[];
	clock: RecoveryClock;
	auditorToken: string;
	/** The room host's migration log lines, across its restarts. */
	logs: LogWatch;
	/** Runs `task` in the background; the run waits for it before quiescence. */
	background(task: Promise<unknown>, what: string): void;
	/** ms since the run started. */
	elapsed(): number;
	offlineMs: readonly [number, number];
	gatewayDownMs: readonly [number, number];
}

export class Injector {
	private n = 0;
	/** Regions whose gateway is down or starting again. */
	private readonly gatewaysAway = new Set<ClusterRegion>();
	/** Answers that contradict what the room itself reported (checked on every migration). */
	readonly anomalies: Failure[] = [];

	constructor(private readonly ctx: FaultContext) {}

	/** Whether `kind` can be injected now. */
	feasible(kind: ScheduledKind): boolean {
		if (kind === FaultKind.KillGateway) return this.gatewaysAway.size === 0;
		if (kind === FaultKind.Offline) return this.ctx.sdkClients().filter((c) => c.net.offline).length < MAX_OFFLINE && this.offlineCandidates().length > 0;
		return true;
	}

	/** A fault log entry for something that happened by itself (a token expiry). */
	entry(kind: FaultKind, detail: Record<string, unknown>): FaultRecord {
		return { n: ++this.n, kind, atMs: this.ctx.elapsed(), ms: 0, detail, recoveryMs: null };
	}

	async inject(kind: ScheduledKind): Promise<FaultRecord> {
		const rec = this.entry(kind, {});
		const started = Date.now();
		switch (kind) {
			case FaultKind.KillRooms:
				await this.killRooms(rec);
				break;
			case FaultKind.CrashMigration:
				await this.crashMigration(rec);
				break;
			case FaultKind.Migrate:
				await this.migrate(rec);
				break;
			case FaultKind.Drain:
				await this.drain(rec);
				break;
			case FaultKind.DrainAll:
				await this.drainAll(rec);
				break;
			case FaultKind.KillGateway:
				await this.killGateway(rec);
				break;
			case FaultKind.Offline:
				this.offline(rec);
				break;
		}
		rec.ms = Date.now() - started;
		return rec;
	}

	private async killRooms(rec: FaultRecord): Promise<void> {
		const { arm } = this.ctx.clock.start(rec, this.ctx.clients(), { needWelcome: true });
		await this.ctx.cluster.restartRooms();
		arm();
	}

	private async crashMigration(rec: FaultRecord): Promise<void> {
		const { cluster } = this.ctx;
		const room = pick(this.ctx.random, this.ctx.rooms);
		const from = await this.homeOf(room);
		const to = this.otherRegion(from);
		const atPause = chance(this.ctx.random, AT_PAUSE_SHARE);
		const delayMs = atPause ? null : int(this.ctx.random, 0, 2_500);
		rec.detail = { room, from, to, at: atPause ? "pause" : `${delayMs} ms` };
		const { arm } = this.ctx.clock.start(rec, this.ctx.clients(), { needWelcome: true });
		const since = Date.now();
		const migrating = call(cluster, "POST", `/v1/admin/rooms/${room}/migrate`, { body: { to }, attempts: 1 }).then(
			(a) => a.status,
			() => 0,
		);
		if (delayMs === null) {
			const copied = await this.ctx.logs.waitFor((l) => l.event === "migrate_copied" && l.room === room, since, COPIED_TIMEOUT_MS);
			if (copied === null) rec.note = "no migrate_copied line before the kill";
		} else {
			await new Promise((r) => setTimeout(r, delayMs));
		}
		await cluster.restartRooms();
		arm();
		const status = await migrating;
		rec.detail.answer = status;
		this.ctx.background(
			this.ctx.logs
				.waitFor((l) => (l.event === "migrate_rolled_back" || l.event === "migrate_rolled_forward") && l.room === room, since, RECOVERED_TIMEOUT_MS)
				.then((l) => {
					if (l !== null) rec.detail.recovered = l.event;
					else if (status === 200) rec.detail.recovered = "completed before the kill";
					else rec.detail.recovered = delayMs === null ? `no recovery line within ${RECOVERED_TIMEOUT_MS} ms` : "none seen (killed before the copy began?)";
				}),
			"crash-migration recovery line",
		);
	}

	private async migrate(rec: FaultRecord): Promise<void> {
		const room = pick(this.ctx.random, this.ctx.rooms);
		const from = await this.homeOf(room);
		const to = this.otherRegion(from);
		rec.detail = { room, from, to };
		const { arm, cancel } = this.ctx.clock.start(rec, this.inRoom(room), { needWelcome: true });
		const answer = await call(this.ctx.cluster, "POST", `/v1/admin/rooms/${room}/migrate`, { body: { to } });
		if (answer.status !== 200) {
			cancel();
			rec.note = `migrate answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`;
			if (answer.status === 409)
				this.anomalies.push({
					check: "home",
					room,
					message: `fault #${rec.n}: the room reported home ${from}, a migration to ${to} answered 409 already_there`,
				});
			return;
		}
		arm();
		const body = answer.body as { from?: string; seq?: number; moved?: number };
		rec.detail.seq = body.seq;
		rec.detail.moved = body.moved;
		if (body.from !== from)
			this.anomalies.push({ check: "home", room, message: `fault #${rec.n}: the room reported home ${from}, the migration moved it from ${body.from}` });
	}

	private async drain(rec: FaultRecord): Promise<void> {
		const room = pick(this.ctx.random, this.ctx.rooms);
		rec.detail = { room };
		const { arm } = this.ctx.clock.start(rec, this.inRoom(room), { needWelcome: true });
		const answer = await call(this.ctx.cluster, "POST", `/v1/admin/rooms/${room}/drain`);
		arm();
		rec.detail.closed = (answer.body as { closed?: number }).closed;
		if (answer.status !== 200) rec.note = `drain answered ${answer.status}`;
	}

	private async drainAll(rec: FaultRecord): Promise<void> {
		const { arm } = this.ctx.clock.start(rec, this.ctx.clients(), { needWelcome: true });
		const answer = await call(this.ctx.cluster, "POST", "/v1/admin/drain-all");
		arm();
		const body = answer.body as { rooms?: number; closed?: number };
		rec.detail = { rooms: body.rooms, closed: body.closed };
		if (answer.status !== 200) rec.note = `drain-all answered ${answer.status}`;
	}

	private async killGateway(rec: FaultRecord): Promise<void> {
		const { cluster } = this.ctx;
		const region = pick(this.ctx.random, cluster.liveRegions);
		const base = cluster.gateway(region).wsUrl;
		const downMs = int(this.ctx.random, ...this.ctx.gatewayDownMs);
		const hit = this.ctx.clients().filter((c) => c.gatewayBase() === base);
		rec.detail = { region, downMs, clients: hit.length };
		const { arm } = this.ctx.clock.start(rec, hit, { needWelcome: true });
		this.gatewaysAway.add(region);
		await cluster.stopGateway(region);
		arm();
		this.ctx.background(
			(async () => {
				await new Promise((r) => setTimeout(r, downMs));
				const restartAt = Date.now();
				await cluster.startGateway(region);
				rec.detail.restartMs = Date.now() - restartAt;
				this.gatewaysAway.delete(region);
			})(),
			`restart of gateway ${region}`,
		);
	}

	private offline(rec: FaultRecord): void {
		const client = pick(this.ctx.random, this.offlineCandidates());
		const ms = int(this.ctx.random, ...this.ctx.offlineMs);
		rec.detail = { client: client.record.label, offlineMs: ms };
		client.net.goOffline();
		this.ctx.background(
			(async () => {
				await new Promise((r) => setTimeout(r, ms));
				// Timed from the moment the network is back: the time offline is the fault itself.
				const { arm } = this.ctx.clock.start(rec, [client], { needWelcome: true, self: client });
				client.net.goOnline();
				arm();
			})(),
			`offline spell of ${client.record.label}`,
		);
	}

	private offlineCandidates(): SdkClient[] {
		return this.ctx.sdkClients().filter((c) => !c.net.offline && c.isOpen());
	}

	private inRoom(room: string): ChaosClient[] {
		return this.ctx.clients().filter((c) => c.record.room === room);
	}

	private otherRegion(from: string): ClusterRegion {
		return pick(
			this.ctx.random,
			CLUSTER_REGIONS.filter((r) => r !== from),
		);
	}

	/** The home the room reports (`GET /v1/rooms/:room`). */
	private async homeOf(room: string): Promise<string> {
		const answer = await call(this.ctx.cluster, "GET", `/v1/rooms/${room}`, { token: this.ctx.auditorToken });
		const home = (answer.body as { home?: unknown }).home;
		if (answer.status !== 200 || typeof home !== "string") throw new Error(`GET /v1/rooms/${room} answered ${answer.status} ${JSON.stringify(answer.body)}`);
		return home;
	}
}
