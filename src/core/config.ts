/**
 * Configuration names and their parsing (CONTRACT.md §2). Env is parsed once per isolate per
 * env object; invalid values fall back to defaults with one structured log line each.
 */
import { isLogLevel, type LogLevel, log, setLogLevel } from "./log.ts";

/** Every Worker var / secret baton reads. */
export const ConfigName = {
	JwtSecret: "BATON_JWT_SECRET",
	/** An inline JWK Set (JSON) of public keys for RS256 / ES256 / EdDSA tokens (CONTRACT.md §11). */
	Jwks: "BATON_JWKS",
	/** A JWK Set fetched over HTTPS (plain http only to a loopback host). */
	JwksUrl: "BATON_JWKS_URL",
	/** When set, every token's `iss` must equal it. */
	JwtIssuer: "BATON_JWT_ISSUER",
	/** When set, every token's `aud` (string or array) must contain it. */
	JwtAudience: "BATON_JWT_AUDIENCE",
	/** Testing only: the minimum time between two fetches of BATON_JWKS_URL for an unknown `kid` (default one minute). */
	JwksMinRefetchMs: "BATON_JWKS_MIN_REFETCH_MS",
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
	/** Live connections of one `sub` per room (CONTRACT.md §13). */
	MaxConnectionsPerSub: "MAX_CONNECTIONS_PER_SUB",
	/** Bytes of message frames the kept log may hold, besides HISTORY_LIMIT (CONTRACT.md §13). */
	HistoryMaxBytes: "HISTORY_MAX_BYTES",
	/** Bytes of message frames sent to one connection above its acknowledged seq (CONTRACT.md §13). */
	SendBufferMaxBytes: "SEND_BUFFER_MAX_BYTES",
	/** The same, summed over a room's connections (CONTRACT.md §13). */
	SendBufferRoomMaxBytes: "SEND_BUFFER_ROOM_MAX_BYTES",
	/** Rooms `POST /v1/admin/drain-all` drains at a time. */
	DrainAllConcurrency: "DRAIN_ALL_CONCURRENCY",
	DrainWindowMs: "DRAIN_WINDOW_MS",
	/** Subs present up to which presence is sent as join/leave events; beyond it, as a count (CONTRACT.md §12). */
	PresenceEventsMax: "PRESENCE_EVENTS_MAX",
	DevTokens: "BATON_DEV_TOKENS",
	/** The least severe log level written: `debug`, `info` (default), `warn` or `error`. */
	LogLevel: "LOG_LEVEL",
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

/** A JWK Set as configured: `{"keys":[…]}`; each key is checked when a token needs it. */
export interface JwkSet {
	keys: Array<Record<string, unknown>>;
}

/**
 * Parsed configuration. `misconfigured` says why the server refuses every request (no
 * verification key at all, or a key setting that cannot be used); null when it can serve.
 */
export interface Config {
	jwtSecret: string | null;
	jwks: JwkSet | null;
	jwksUrl: string | null;
	jwtIssuer: string | null;
	jwtAudience: string | null;
	jwksMinRefetchMs: number;
	misconfigured: string | null;
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
	maxConnectionsPerSub: number;
	historyMaxBytes: number;
	sendBufferMaxBytes: number;
	sendBufferRoomMaxBytes: number;
	drainWindowMs: number;
	presenceEventsMax: number;
	drainAllConcurrency: number;
	devTokens: boolean;
	logLevel: LogLevel;
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
	maxConnectionsPerSub: 20,
	historyMaxBytes: 4_194_304,
	sendBufferMaxBytes: 4_194_304,
	sendBufferRoomMaxBytes: 50_331_648,
	drainWindowMs: 10_000,
	presenceEventsMax: 100,
	drainAllConcurrency: 8,
	jwksMinRefetchMs: 60_000,
} as const;

/** RFC 6750 token68 syntax: the only admin tokens a bearer header can carry (hono/bearer-auth checks it). */
const ADMIN_TOKEN_SYNTAX = /^[A-Za-z0-9._~+/-]+=*$/;

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

/** LOG_LEVEL, applied to this isolate's log lines as it is read; an unknown level keeps `info`. */
function readLogLevel(env: ConfigEnv): LogLevel {
	const raw = nonEmpty(env.LOG_LEVEL)?.trim().toLowerCase() ?? "info";
	const level = isLogLevel(raw) ? raw : "info";
	setLogLevel(level);
	if (level !== raw) log.warn("config_invalid", { name: ConfigName.LogLevel, fallback: level });
	return level;
}

function nonEmpty(raw: string | undefined): string | null {
	return raw !== undefined && raw.trim() !== "" ? raw : null;
}

/** Parses BATON_JWKS: a JSON object whose `keys` is an array of objects; null when unusable. */
export function parseJwkSet(raw: string): JwkSet | null {
	try {
		const v: unknown = JSON.parse(raw);
		if (typeof v !== "object" || v === null) return null;
		const keys = (v as Record<string, unknown>).keys;
		if (!Array.isArray(keys) || !keys.every((k) => typeof k === "object" && k !== null && !Array.isArray(k))) return null;
		return { keys: keys as Array<Record<string, unknown>> };
	} catch {
		return null;
	}
}

/** Loopback hosts, the only ones a plain `http://` JWKS URL may name (local testing). */
function isLoopbackHost(hostname: string): boolean {
	return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Checks BATON_JWKS_URL: https, or http to a loopback host; null when neither. */
export function parseJwksUrl(raw: string): string | null {
	let url: URL;
	try {
		url = new URL(raw.trim());
	} catch {
		return null;
	}
	if (url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname))) return url.href;
	return null;
}

/** Why the verification settings cannot serve, or null when they can (CONTRACT.md §2, §11). */
function verificationProblem(env: ConfigEnv, config: Pick<Config, "jwtSecret" | "jwks" | "jwksUrl">): string | null {
	if (nonEmpty(env.BATON_JWKS) !== null && config.jwks === null) return `${ConfigName.Jwks} is not a JSON Web Key Set`;
	if (nonEmpty(env.BATON_JWKS_URL) !== null && config.jwksUrl === null) return `${ConfigName.JwksUrl} must be https:// (or http:// to a loopback host)`;
	if (config.jwtSecret === null && config.jwks === null && config.jwksUrl === null) {
		return `none of ${ConfigName.JwtSecret}, ${ConfigName.Jwks}, ${ConfigName.JwksUrl} is set`;
	}
	return null;
}

const cache = new WeakMap<object, Config>();

/** Parses (once per env object) the configuration from Worker env. */
export function readConfig(env: ConfigEnv): Config {
	const hit = cache.get(env);
	if (hit) return hit;
	// First, so that what the rest of the parsing logs already follows it.
	const logLevel = readLogLevel(env);
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
	const jwtSecret = nonEmpty(env.BATON_JWT_SECRET);
	const jwksRaw = nonEmpty(env.BATON_JWKS);
	const jwksUrlRaw = nonEmpty(env.BATON_JWKS_URL);
	const keys = { jwtSecret, jwks: jwksRaw === null ? null : parseJwkSet(jwksRaw), jwksUrl: jwksUrlRaw === null ? null : parseJwksUrl(jwksUrlRaw) };
	const config: Config = {
		...keys,
		jwtIssuer: nonEmpty(env.BATON_JWT_ISSUER),
		jwtAudience: nonEmpty(env.BATON_JWT_AUDIENCE),
		jwksMinRefetchMs: positiveInt(env, ConfigName.JwksMinRefetchMs, DEFAULTS.jwksMinRefetchMs),
		misconfigured: verificationProblem(env, keys),
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
		maxConnectionsPerSub: positiveInt(env, ConfigName.MaxConnectionsPerSub, DEFAULTS.maxConnectionsPerSub),
		historyMaxBytes: positiveInt(env, ConfigName.HistoryMaxBytes, DEFAULTS.historyMaxBytes),
		sendBufferMaxBytes: positiveInt(env, ConfigName.SendBufferMaxBytes, DEFAULTS.sendBufferMaxBytes),
		sendBufferRoomMaxBytes: positiveInt(env, ConfigName.SendBufferRoomMaxBytes, DEFAULTS.sendBufferRoomMaxBytes),
		drainWindowMs: positiveInt(env, ConfigName.DrainWindowMs, DEFAULTS.drainWindowMs),
		presenceEventsMax: positiveInt(env, ConfigName.PresenceEventsMax, DEFAULTS.presenceEventsMax),
		drainAllConcurrency: positiveInt(env, ConfigName.DrainAllConcurrency, DEFAULTS.drainAllConcurrency),
		devTokens: env.BATON_DEV_TOKENS === "true",
		logLevel,
	};
	if (config.misconfigured !== null) log.error("server_misconfigured", { reason: `${config.misconfigured}; every request is refused` });
	if (config.adminToken !== null && !ADMIN_TOKEN_SYNTAX.test(config.adminToken)) {
		log.warn("config_invalid", { name: ConfigName.AdminToken, reason: "not a bearer token (letters, digits, -._~+/ then =); no admin request can match it" });
	}
	cache.set(env, config);
	return config;
}
