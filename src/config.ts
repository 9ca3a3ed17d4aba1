/**
 * Configuration names and their parsing (CONTRACT.md §2). Env is parsed once per isolate per
 * env object; invalid values fall back to defaults with one structured log line each.
 */
import { log } from "./log.ts";

/** Every Worker var / secret baton reads. */
export const ConfigName = {
	JwtSecret: "BATON_JWT_SECRET",
	AdminToken: "BATON_ADMIN_TOKEN",
	AllowedOrigins: "BATON_ALLOWED_ORIGINS",
	Region: "BATON_REGION",
	Regions: "BATON_REGIONS",
	HeartbeatIntervalMs: "HEARTBEAT_INTERVAL_MS",
	HeartbeatTimeoutMs: "HEARTBEAT_TIMEOUT_MS",
	MaxMessageBytes: "MAX_MESSAGE_BYTES",
	HistoryLimit: "HISTORY_LIMIT",
	ResumeWindowMs: "RESUME_WINDOW_MS",
	RateLimitPerSec: "RATE_LIMIT_PER_SEC",
	RateLimitBurst: "RATE_LIMIT_BURST",
	MaxConnectionsPerRoom: "MAX_CONNECTIONS_PER_ROOM",
	DrainWindowMs: "DRAIN_WINDOW_MS",
	DevTokens: "BATON_DEV_TOKENS",
	/** Testing only: pause (ms) a migration between copy and pointer flip, so a test can crash it there. */
	FaultPauseBeforeFlipMs: "BATON_FAULT_PAUSE_BEFORE_FLIP_MS",
} as const;
export type ConfigName = (typeof ConfigName)[keyof typeof ConfigName];

/** Regions a room may be homed in (Durable Object location hints). */
export const KNOWN_REGIONS = ["wnam", "enam", "weur", "eeur", "apac", "oc", "sam", "afr", "me"] as const;
export type Region = (typeof KNOWN_REGIONS)[number];

export function isRegion(value: unknown): value is Region {
	return typeof value === "string" && (KNOWN_REGIONS as readonly string[]).includes(value);
}

/** Parsed configuration. `jwtSecret` is null when missing: every auth path then fails closed. */
export interface Config {
	jwtSecret: string | null;
	adminToken: string | null;
	allowedOrigins: "*" | ReadonlySet<string>;
	region: Region | null;
	regions: readonly Region[];
	heartbeatIntervalMs: number;
	heartbeatTimeoutMs: number;
	maxMessageBytes: number;
	historyLimit: number;
	resumeWindowMs: number;
	rateLimitPerSec: number;
	rateLimitBurst: number;
	maxConnectionsPerRoom: number;
	drainWindowMs: number;
	devTokens: boolean;
}

/** The env shape as far as configuration goes: every value is a string var or secret. */
export type ConfigEnv = Partial<Record<ConfigName, string | undefined>>;

const DEFAULTS = {
	heartbeatIntervalMs: 30_000,
	heartbeatTimeoutMs: 90_000,
	maxMessageBytes: 65_536,
	historyLimit: 1000,
	resumeWindowMs: 600_000,
	rateLimitPerSec: 20,
	rateLimitBurst: 40,
	maxConnectionsPerRoom: 5000,
	drainWindowMs: 10_000,
} as const;

const DEFAULT_REGIONS: readonly Region[] = ["wnam", "weur", "apac"];

function positiveInt(env: ConfigEnv, name: ConfigName, fallback: number): number {
	const raw = env[name];
	if (raw === undefined || raw === "") return fallback;
	const n = Number(raw);
	if (!Number.isSafeInteger(n) || n <= 0) {
		log.warn("config_invalid", { name, fallback });
		return fallback;
	}
	return n;
}

function nonEmpty(raw: string | undefined): string | null {
	return raw !== undefined && raw.trim() !== "" ? raw : null;
}

const cache = new WeakMap<object, Config>();

/** Parses (once per env object) the configuration from Worker env. */
export function readConfig(env: ConfigEnv): Config {
	const hit = cache.get(env);
	if (hit) return hit;
	const origins = nonEmpty(env.BATON_ALLOWED_ORIGINS) ?? "*";
	const originList = origins
		.split(",")
		.map((o) => o.trim())
		.filter((o) => o !== "");
	const regionsRaw = (nonEmpty(env.BATON_REGIONS) ?? DEFAULT_REGIONS.join(","))
		.split(",")
		.map((r) => r.trim())
		.filter((r) => r !== "");
	const regions = regionsRaw.filter(isRegion);
	if (regions.length !== regionsRaw.length) log.warn("config_invalid", { name: ConfigName.Regions, ignored: regionsRaw.filter((r) => !isRegion(r)) });
	const regionRaw = nonEmpty(env.BATON_REGION);
	if (regionRaw !== null && !isRegion(regionRaw)) log.warn("config_invalid", { name: ConfigName.Region });
	const heartbeatIntervalMs = positiveInt(env, ConfigName.HeartbeatIntervalMs, DEFAULTS.heartbeatIntervalMs);
	const config: Config = {
		jwtSecret: nonEmpty(env.BATON_JWT_SECRET),
		adminToken: nonEmpty(env.BATON_ADMIN_TOKEN),
		allowedOrigins: originList.includes("*") ? "*" : new Set(originList),
		region: regionRaw !== null && isRegion(regionRaw) ? regionRaw : null,
		regions: regions.length > 0 ? regions : DEFAULT_REGIONS,
		heartbeatIntervalMs,
		heartbeatTimeoutMs: positiveInt(env, ConfigName.HeartbeatTimeoutMs, Math.max(DEFAULTS.heartbeatTimeoutMs, heartbeatIntervalMs)),
		maxMessageBytes: positiveInt(env, ConfigName.MaxMessageBytes, DEFAULTS.maxMessageBytes),
		historyLimit: positiveInt(env, ConfigName.HistoryLimit, DEFAULTS.historyLimit),
		resumeWindowMs: positiveInt(env, ConfigName.ResumeWindowMs, DEFAULTS.resumeWindowMs),
		rateLimitPerSec: positiveInt(env, ConfigName.RateLimitPerSec, DEFAULTS.rateLimitPerSec),
		rateLimitBurst: positiveInt(env, ConfigName.RateLimitBurst, DEFAULTS.rateLimitBurst),
		maxConnectionsPerRoom: positiveInt(env, ConfigName.MaxConnectionsPerRoom, DEFAULTS.maxConnectionsPerRoom),
		drainWindowMs: positiveInt(env, ConfigName.DrainWindowMs, DEFAULTS.drainWindowMs),
		devTokens: env.BATON_DEV_TOKENS === "true",
	};
	if (config.jwtSecret === null) log.error("server_misconfigured", { reason: `${ConfigName.JwtSecret} is not set; every request is refused` });
	cache.set(env, config);
	return config;
}
