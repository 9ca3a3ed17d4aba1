/**
 * `npm run chaos -- [--faults N] [--seed S] [--minutes M] [--rooms R] [--clients C]`: a seeded
 * soak of the multi-region setup under every kind of fault (chaos/README.md). Prints one summary
 * line (and the failures, with the seed and the fault log around them), writes the JSON report
 * under chaos/results/, and exits 0 when every check passed, 1 on a failure, 2 when the harness
 * itself could not run (a process that would not start).
 */
import { parseArgs } from "./options.ts";
import { summaryLine, writeReport } from "./report.ts";
import { runChaos } from "./run.ts";

/** Fault log lines printed: those within this many ms of the first divergent message's publish (else the last few). */
const FAULT_LOG_AROUND_MS = 15_000;
const FAULT_LOG_TAIL = 12;

const log = (line: string) => process.stderr.write(`${line}\n`);
let opts: ReturnType<typeof parseArgs>;
try {
	opts = parseArgs(process.argv.slice(2), log);
} catch (err) {
	log(err instanceof Error ? err.message : String(err));
	process.exit(2);
}
// Ctrl-C: exiting runs the harness's exit hook, which kills every wrangler process group.
process.once("SIGINT", () => process.exit(130));

const report = await runChaos(opts);
const path = opts.resultsDir === null ? null : writeReport(opts.resultsDir, report);
if (!report.ok) {
	if (report.harnessError !== undefined) log(`harness error (seed ${report.seed}): ${report.harnessError}`);
	for (const f of report.failures.slice(0, 30))
		log(`FAIL ${f.check}${f.room ? ` room=${f.room}` : ""}${f.client ? ` client=${f.client}` : ""}${f.seq !== undefined ? ` seq=${f.seq}` : ""}: ${f.message}`);
	if (report.failures.length > 30) log(`… ${report.failures.length - 30} more failures in the JSON report`);
	const at = report.firstDivergentAtMs;
	const excerpt = at === null ? report.faultLog.slice(-FAULT_LOG_TAIL) : report.faultLog.filter((f) => Math.abs(f.atMs - at) <= FAULT_LOG_AROUND_MS);
	log(
		at === null
			? `fault log (last ${FAULT_LOG_TAIL}):`
			: `fault log within ${FAULT_LOG_AROUND_MS / 1000} s of ${at} ms (when seq ${report.firstDivergentSeq} was published):`,
	);
	for (const f of excerpt) log(`  #${f.n} at ${f.atMs} ms ${f.kind} ${JSON.stringify(f.detail)}${f.note ? ` (${f.note})` : ""}`);
	log(`reproduce: npm run chaos -- --seed ${report.seed} --faults ${opts.faults} --minutes ${opts.minutes} --rooms ${opts.rooms} --clients ${opts.clients}`);
}
console.log(summaryLine(report));
if (path !== null) log(`report: ${path}`);
process.exit(report.harnessError !== undefined ? 2 : report.ok ? 0 : 1);
