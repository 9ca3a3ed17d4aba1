/**
 * The package as users get it (CONTRACT §14, last bullet): `npm pack` builds and packs
 * `baton-rooms`; an empty project installs the tarball; `./client` and `./protocol` import in
 * plain Node ESM and typecheck with `moduleResolution` `bundler` and `nodenext` without Workers
 * types; a tiny Worker app extending `BatonRoom` (test/package/app) typechecks against its own
 * `wrangler types`, bundles with `wrangler deploy --dry-run`, and serves a room under `wrangler
 * dev` to the installed client: connect, publish through the app's hook, ack, message.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken, uniqueRoom } from "./harness/client.ts";
import { freePort, ROOT, WranglerProcess, wranglerEnv } from "./harness/process.ts";
import { TEST_SECRET } from "./harness/server.ts";

const run = promisify(execFile);
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
/** pack + install from the registry's cache + two typechecks + a bundle: minutes on a loaded 2-core machine. */
const STEP_TIMEOUT_MS = 240_000;

/** Runs a command in `cwd`; on failure the error carries its output. */
async function sh(cwd: string, file: string, args: string[]): Promise<string> {
	try {
		const { stdout, stderr } = await run(file, args, { cwd, env: wranglerEnv(), maxBuffer: 64 * 1024 * 1024, timeout: STEP_TIMEOUT_MS });
		return stdout + stderr;
	} catch (err) {
		const e = err as { stdout?: string; stderr?: string; message: string };
		throw new Error(`${file} ${args.join(" ")} failed in ${cwd}: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
	}
}

const node = (cwd: string, args: string[]) => sh(cwd, process.execPath, args);
const npm = (cwd: string, args: string[]) =>
	sh(cwd, process.execPath, [join(ROOT, "node_modules/npm/bin/npm-cli.js"), ...args]).catch(() => sh(cwd, "npm", args));

function writeJson(path: string, value: unknown): void {
	writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

describe("the baton-rooms package, packed and installed into an empty project", () => {
	let dir: string;
	let tarball: string;

	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), "baton-package-"));
		const packDir = join(dir, "pack");
		mkdirSync(packDir);
		await npm(ROOT, ["pack", "--pack-destination", packDir, "--silent"]);
		const file = readdirSync(packDir).find((f) => f.endsWith(".tgz"));
		if (file === undefined) throw new Error("npm pack wrote no tarball");
		tarball = join(packDir, file);
		const app = join(dir, "app");
		mkdirSync(join(app, "src"), { recursive: true });
		writeJson(join(app, "package.json"), { name: "consumer", private: true, type: "module", dependencies: { "baton-rooms": `file:${tarball}` } });
		await npm(app, ["install", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts"]);
	}, STEP_TIMEOUT_MS);

	afterAll(() => {
		if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
	});

	it("publishes only the build, the README and the license", async () => {
		const listing = await npm(ROOT, ["pack", "--dry-run", "--json", "--ignore-scripts"]);
		const files = (JSON.parse(listing.slice(listing.indexOf("["))) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map((f) => f.path) ?? [];
		expect(files).toContain("dist/client/index.js");
		expect(files).toContain("dist/client/index.d.ts");
		expect(files).toContain("dist/server/index.js");
		expect(files).toContain("dist/protocol/index.d.ts");
		expect(files.filter((f) => !f.startsWith("dist/") && !["README.md", "LICENSE", "package.json"].includes(f))).toEqual([]);
		expect(files.some((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toBe(false);
	});

	it("imports ./client and ./protocol in plain Node ESM", async () => {
		const app = join(dir, "app");
		const out = await node(app, [
			"--input-type=module",
			"-e",
			[
				'import { connect, CloseCode } from "baton-rooms/client";',
				'import { CloseCode as Codes, ErrorCode } from "baton-rooms/protocol";',
				"console.log(JSON.stringify({ connect: typeof connect, moved: CloseCode.RoomMoved, same: CloseCode === Codes, unauthorized: ErrorCode.Unauthorized }));",
			].join("\n"),
		]);
		expect(JSON.parse(out.trim())).toEqual({ connect: "function", moved: 4010, same: true, unauthorized: "unauthorized" });
	});

	it.each([
		["bundler", "ESNext"],
		["nodenext", "NodeNext"],
	])(
		"typechecks ./client and ./protocol with moduleResolution %s and no Workers types",
		async (moduleResolution, module) => {
			const app = join(dir, "app");
			const check = join(app, `check-${moduleResolution}`);
			mkdirSync(check, { recursive: true });
			writeFileSync(
				join(check, "consumer.ts"),
				[
					'import { connect, type RoomState } from "baton-rooms/client";',
					'import { CloseCode, closeReaction } from "baton-rooms/protocol";',
					'const room = connect<{ text: string }>({ url: "http://127.0.0.1:1", room: "lobby", token: "t" });',
					'room.on("message", (m) => m.data.text.toUpperCase());',
					"const state: RoomState = room.state;",
					"export const reaction = closeReaction(CloseCode.RoomMoved);",
					"export { state };",
				].join("\n"),
			);
			writeJson(join(check, "tsconfig.json"), {
				compilerOptions: { strict: true, noEmit: true, target: "ES2022", module, moduleResolution, lib: ["ES2023", "DOM"], types: [], skipLibCheck: false },
				files: ["consumer.ts"],
			});
			await node(check, [TSC, "-p", "tsconfig.json"]);
		},
		STEP_TIMEOUT_MS,
	);

	it(
		"runs an app extending BatonRoom: typechecks, bundles with wrangler, and serves a room to the installed client",
		async () => {
			const app = join(dir, "app");
			copyFileSync(join(ROOT, "test/package/app/index.ts"), join(app, "src/index.ts"));
			copyFileSync(join(ROOT, "test/package/app/wrangler.toml"), join(app, "wrangler.toml"));
			await node(app, [WRANGLER, "types"]);
			writeJson(join(app, "tsconfig.json"), {
				compilerOptions: {
					strict: true,
					noEmit: true,
					target: "ES2022",
					module: "ESNext",
					moduleResolution: "bundler",
					lib: ["ES2023"],
					types: [],
					skipLibCheck: false,
				},
				include: ["src", "worker-configuration.d.ts"],
			});
			await node(app, [TSC, "-p", "tsconfig.json"]);
			const dry = await node(app, [WRANGLER, "deploy", "--dry-run", "--outdir", "out"]);
			expect(dry).toContain("--dry-run: exiting now.");

			const port = await freePort();
			const wrangler = new WranglerProcess("package app", port, wranglerEnv(), Number.POSITIVE_INFINITY, app);
			try {
				await wrangler.launch([
					"dev",
					"--ip",
					"127.0.0.1",
					"--port",
					String(port),
					"--show-interactive-dev-session=false",
					"--var",
					`BATON_JWT_SECRET:${TEST_SECRET}`,
				]);
				const { connect } = (await import(
					pathToFileURL(join(app, "node_modules/baton-rooms/dist/client/index.js")).href
				)) as typeof import("../../client/index.ts");
				const roomName = uniqueRoom("pkg");
				const room = connect<{ text: string }>({ url: wrangler.url, room: roomName, token: await mintToken("ada", [roomName]) });
				try {
					const message = new Promise<{ seq: number; data: { text: string } }>((resolve) => room.on("message", (m) => resolve(m)));
					const ack = await room.publish({ text: "hello" });
					expect(ack).toEqual({ seq: 1, dup: false });
					expect(await message).toMatchObject({ seq: 1, data: { text: "HELLO" } });
					await expect(room.publish({ text: 42 } as unknown as { text: string })).rejects.toMatchObject({ code: "invalid" });
				} finally {
					room.close();
				}
			} finally {
				await wrangler.kill();
			}
		},
		STEP_TIMEOUT_MS,
	);
});
