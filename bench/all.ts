/**
 * `npm run bench [-- --quick]`: the comparison suite (bench/run.ts: baton vs bare vs partyserver,
 * one table, migration and presence included) then the anchor routing overhead
 * (bench/migration.ts), each in its own process with the same flags.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const flags = process.argv.slice(2);
let failed = false;
for (const script of ["run.ts", "migration.ts"]) {
	const result = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, script), ...flags], { stdio: "inherit" });
	if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
