/**
 * Everything a room knows, opened once per construction: its configuration and the stores behind
 * it (SQLite tables, sockets). The decision modules (admission, publish, alarm, …) take this and
 * nothing else, so each reads the same facts the same way.
 */
import { configEnv } from "../../src/core/bindings.ts";
import { type Config, readConfig } from "../../src/core/config.ts";
import { Metrics, metricsSinkFrom } from "../../src/core/metrics.ts";
import { schemaVersion } from "../schema-migrations.ts";
import { Bans } from "./bans.ts";
import { MessageLog } from "./message-log.ts";
import { Meta, MetaKey } from "./meta.ts";
import { Presence } from "./presence.ts";
import { PresenceFeed } from "./presence-feed.ts";
import { PublishBuckets } from "./publish-bucket.ts";
import { applySchema, BYTE_COUNTS_VERSION } from "./schema.ts";
import { SendAccounts } from "./send-account.ts";
import { Sessions } from "./sessions.ts";
import { RoomSockets } from "./sockets.ts";
import { RoomCounters } from "./stats.ts";

export class RoomState {
	readonly config: Config;
	readonly meta: Meta;
	readonly log: MessageLog;
	readonly sessions: Sessions;
	readonly presence: Presence;
	readonly bans: Bans;
	readonly counters: RoomCounters;
	readonly sockets: RoomSockets;
	/** Dashboard counters (Analytics Engine, when the Worker binds BATON_METRICS). */
	readonly metrics: Metrics;
	/** What connections are told about presence (event / count mode); holds the `presence_count` throttle. */
	readonly feed: PresenceFeed;
	/** Publish buckets per sub (in memory: an eviction may reset them, CONTRACT.md §7). */
	readonly buckets = new PublishBuckets();
	/** What the room sent each connection above its acknowledged seq (in memory, rebuilt on demand). */
	readonly accounts: SendAccounts;

	constructor(
		readonly ctx: DurableObjectState,
		env: unknown,
	) {
		this.config = readConfig(configEnv(env));
		const sql = ctx.storage.sql;
		// A log older than its byte counts (schema < 3; 0 is new storage, or a room from before the
		// schema was versioned) gets them once, on the first wake on this code.
		const from = schemaVersion(sql);
		applySchema(ctx.storage);
		const recount = from < BYTE_COUNTS_VERSION;
		this.meta = new Meta(sql);
		this.log = new MessageLog(
			ctx.storage,
			this.meta,
			{ historyLimit: this.config.historyLimit, historyMaxBytes: this.config.historyMaxBytes },
			this.config.resumeWindowMs,
		);
		if (recount) this.log.recountBytes();
		// Dedupe records are dropped by age (§2); a room without sockets has no alarm to do it
		// (§7), so each wake does, and appends do every minute (MessageLog.append).
		this.log.pruneDedupe(Date.now());
		this.sessions = new Sessions(sql);
		this.presence = new Presence(sql);
		this.bans = new Bans(sql);
		this.counters = new RoomCounters(sql);
		this.sockets = new RoomSockets(ctx);
		this.metrics = new Metrics(typeof env === "object" && env !== null ? metricsSinkFrom(env) : null, this.config.region ?? "");
		this.accounts = new SendAccounts(this.sockets, this.log);
		this.feed = new PresenceFeed(this);
	}

	get roomName(): string {
		return this.meta.getString(MetaKey.Room) ?? "";
	}

	get home(): string {
		return this.meta.getString(MetaKey.Home) ?? this.config.region ?? this.config.regions[0] ?? "wnam";
	}

	/** True while a migration freezes the room (CONTRACT.md §8, §14 `this.moving`). */
	get moving(): boolean {
		return this.meta.getNumber(MetaKey.Moving) !== null;
	}

	/** Records the room's name and, for a new room, its home (first contact wins). */
	identify(room: string, homeHint: string | null): void {
		if (this.meta.getString(MetaKey.Room) === null) this.meta.set(MetaKey.Room, room);
		if (homeHint !== null && this.meta.getString(MetaKey.Home) === null) this.meta.set(MetaKey.Home, homeHint);
	}
}
