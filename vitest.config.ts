import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Three projects: `workers` runs inside workerd (gateway + room), `node` runs pure modules and the
 * SDK against fakes, `e2e` drives real `wrangler dev` processes over loopback.
 */
export default defineConfig({
	test: {
		projects: [
			{
				test: { name: "node", include: ["test/unit/**/*.test.ts", "test/client/**/*.test.ts", "test/tooling/**/*.test.ts"], environment: "node" },
			},
			{
				plugins: [
					cloudflareTest({
						wrangler: { configPath: "./wrangler.toml" },
						// The repo's Worker plus a room class with test hooks (test/fixtures/test-rooms.ts), bound
						// as ROOMS: rooms without a hook scenario behave exactly like the repo's own `Room`.
						main: "./test/workers/worker.ts",
						miniflare: {
							durableObjects: { ROOMS: { className: "TestRoom", useSQLite: true } },
							bindings: {
								BATON_JWT_SECRET: "test-secret-0123456789abcdef0123456789abcdef",
								BATON_ADMIN_TOKEN: "test-admin-token",
								BATON_ALLOWED_ORIGINS: "https://app.example,http://127.0.0.1:8787",
								BATON_REGION: "wnam",
								RATE_LIMIT_PER_SEC: "20",
								RATE_LIMIT_BURST: "40",
								HISTORY_LIMIT: "50",
								MAX_MESSAGE_BYTES: "4096",
								// The pool also reads a local .dev.vars; pin what it could differ in, so a clean
								// clone (CI) and a dev checkout run the same configuration.
								BATON_DEV_TOKENS: "false",
								// Small, so test/workers/room.test.ts can fill a room (room_full → 1013).
								MAX_CONNECTIONS_PER_ROOM: "6",
								// Small, so test/workers/presence-modes.test.ts crosses into count mode with 5 subs
								// (and back to event mode at ¾ · 4 = 3).
								PRESENCE_EVENTS_MAX: "4",
								// Small, so test/workers/limits-*.test.ts reach each limit of §13 with a few frames.
								MAX_CONNECTIONS_PER_SUB: "3",
								HISTORY_MAX_BYTES: "32768",
								SEND_BUFFER_MAX_BYTES: "65536",
								SEND_BUFFER_ROOM_MAX_BYTES: "98304",
							},
						},
					}),
				],
				test: { name: "workers", include: ["test/workers/**/*.test.ts"] },
			},
			{
				test: {
					name: "e2e",
					include: ["test/e2e/**/*.test.ts"],
					environment: "node",
					fileParallelism: false,
					testTimeout: 120_000,
					hookTimeout: 120_000,
				},
			},
		],
	},
});
