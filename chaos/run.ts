/**
 * One chaos run, end to end: start the multi-region cluster on free loopback ports, connect the
 * clients, inject faults from the seeded schedule until `--faults` or `--minutes` is reached,
 * go quiet (every fault over, publishing stopped, every publish settled, every client caught
 * up, presence settled), audit, and stop everything. Black-box: it touches the project only
 * through processes, HTTP, WebSockets, the SDK and log lines.
 */
import { mintToken } from "../test/e2e/harness/client.ts";
import { CLUSTER_REGIONS, RegionCluster } from "../test/e2e/harness/cluster.ts";
import { fetchHistory } from "../test/e2e/harness/resuming-peer.ts";
import { TEST_ADMIN_TOKEN, TEST_SECRET } from "../test/e2e/harness/server.ts";
import { call } from "./admin.ts";
import { check, type Failure, type RoomAtRest } from "./checker.ts";
import { RawClient } from "./clients/raw-client.ts";
import type { SdkClient } from "./clients/sdk-client.ts";
import { type FaultRecord, Injector } from "./faults.ts";
import { LogWatch } from "./log-watch.ts";
import { type ChaosOptions, MIX, RESUME_WINDOW_MS, ROOMS_VARS, SERVER_VARS } from "./options.ts";
import { Population } from "./population.ts";
import { chance, int, stream } from "./prng.ts";
import { RecoveryClock } from "./recovery.ts";
import { type ChaosReport, recoveryFigures } from "./report.ts";
import { SecretScanner } from "./scanner.ts";
import { FaultDeck, FaultKind } from "./schedule.ts";
import { delay, until } from "./wait.ts";

/** Bounds of the quiet phase. */
const BACKGROUND_TIMEOUT_MS = 90_000;
const SETTLE_TIMEOUT_MS = 120_000;
const CATCH_UP_TIMEOUT_MS = 90_000;
const PRESENCE_TIMEOUT_MS = 30_000;
const MAX_HISTORY_PAGES = 2_000;

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
	const runStart = Date.now();
	const log = opts.log;
	const scanner = new SecretScanner({ "the admin token": TEST_ADMIN_TOKEN, "the JWT secret": TEST_SECRET });
	const logs = new LogWatch(new Set(["migrate_start", "migrate_copied", "migrate_rolled_back", "migrate_rolled_forward"]), "rooms");
	const faultLog: FaultRecord[] = [];
	const tokenVia = { inBand: 0, unauthorized: 0, authOk: 0 };
	const background = new Set<Promise<unknown>>();
	const backgroundErrors: string[] = [];
	const rooms = Array.from({ length: opts.rooms }, (_, r) => `chaos${r}-${opts.seed.toString(36)}`);
	let cluster: RegionCluster | null = null;
	let pop: Population | null = null;
	let clock: RecoveryClock | null = null;
	let injectMs = 0;
	let quiesceMs = 0;
	let stoppedBy: ChaosReport["stoppedBy"] = "faults";
	let harnessError: string | undefined;
	let result: ReturnType<typeof check> = {
		failures: [],
		totals: { publishes: 0, acked: 0, rejected: 0, unsettled: 0, deliveries: 0, lost: 0, duplicated: 0, outOfOrder: 0, gaps: 0, reconnects: 0 },
	};
	const heads: Record<string, number> = {};
	let injector: Injector | null = null;
	const elapsed = () => Date.now() - runStart;

	const track = (task: Promise<unknown>, what: string) => {
		const p = task.catch((err: unknown) => {
			backgroundErrors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
		});
		background.add(p);
		void p.finally(() => background.delete(p));
	};

	try {
		log(`chaos: seed=${opts.seed} faults=${opts.faults} minutes=${opts.minutes} rooms=${opts.rooms} clients=${opts.clients}; starting the cluster`);
		cluster = await RegionCluster.start({
			vars: SERVER_VARS,
			roomsVars: ROOMS_VARS,
			onOutput: (label, text) => {
				scanner.feed(label, text);
				logs.feed(label, text);
			},
		});
		const live = cluster;
		const auditorToken = await mintToken("chaos-auditor", ["*"], { ttl: 4 * 3600 });
		scanner.addToken(auditorToken, "the auditor");

		const onToken = (client: SdkClient, via: "in-band" | "4001") => {
			if (via === "in-band") tokenVia.inBand++;
			else tokenVia.unauthorized++;
			if (injector === null || clock === null) return;
			const rec = injector.entry(FaultKind.Token, { client: client.record.label, via });
			faultLog.push(rec);
			clock.start(rec, [client], { needWelcome: via === "4001" }).arm();
		};
		pop = await Population.start({
			seed: opts.seed,
			cluster: live,
			rooms,
			clients: opts.clients,
			scanner,
			events: {
				authSent: () => {},
				authOk: () => {
					tokenVia.authOk++;
				},
				tokenExpired: onToken,
				resumeToken: (t) => scanner.addToken(t, "a resume token"),
			},
		});
		const population = pop;
		log(`chaos: ${population.all.length} clients connected (${population.rawCount} raw) after ${Math.round(elapsed() / 1000)} s`);

		clock = new RecoveryClock((room) => headSeen(population, room));
		injector = new Injector({
			cluster: live,
			random: stream(opts.seed, "faults"),
			rooms,
			clients: () => population.active(),
			sdkClients: () => population.sdkActive(),
			clock,
			auditorToken,
			logs,
			background: track,
			elapsed,
			offlineMs: MIX.offlineMs,
			gatewayDownMs: MIX.gatewayDownMs,
		});

		// ---- inject
		const injectStart = Date.now();
		const deadline = injectStart + opts.minutes * 60_000;
		const deck = new FaultDeck(stream(opts.seed, "deck"));
		const gaps = stream(opts.seed, "gaps");
		const churn = stream(opts.seed, "churn");
		while (faultLog.length < opts.faults) {
			if (Date.now() >= deadline) {
				stoppedBy = "minutes";
				break;
			}
			await delay(Math.min(int(gaps, ...MIX.faultGapMs), deadline - Date.now()));
			if (backgroundErrors.length > 0) throw new Error(backgroundErrors.join("; "));
			const inj = injector;
			const kind = deck.next((k) => inj.feasible(k));
			if (kind === null) continue;
			const rec = await injector.inject(kind);
			faultLog.push(rec);
			log(
				`chaos: #${rec.n} ${Math.round(rec.atMs / 100) / 10}s ${rec.kind} ${JSON.stringify(rec.detail)} (${rec.ms} ms)${rec.note ? ` note: ${rec.note}` : ""}`,
			);
			if (chance(churn, MIX.churnChance)) {
				track(
					population.churn(churn).then((label) => {
						if (label !== null) log(`chaos: ${label} left and joined again`);
					}),
					"churn",
				);
			}
		}
		injectMs = Date.now() - injectStart;

		// ---- quiesce
		const quiesceStart = Date.now();
		log(`chaos: ${faultLog.length} faults in ${Math.round(injectMs / 1000)} s (${stoppedBy}); quiescing`);
		population.longTokens = true;
		const settled = await until(() => background.size === 0, BACKGROUND_TIMEOUT_MS);
		if (!settled || backgroundErrors.length > 0)
			throw new Error(`background work did not finish: ${backgroundErrors.join("; ") || `${background.size} tasks left`}`);
		await live.restoreGateways();
		for (const c of population.all) c.stopPublishing();
		const records = () => population.all.map((c) => c.record);
		await until(() => records().every((r) => r.publishes.every((p) => p.settled > 0)), SETTLE_TIMEOUT_MS);
		for (const room of rooms) heads[room] = await headOf(live, room, auditorToken);
		await until(() => population.active().every((c) => c.isOpen() && c.lastSeq() >= (heads[c.record.room] ?? 0)), CATCH_UP_TIMEOUT_MS);
		const atRest = new Map<string, RoomAtRest>();
		for (const room of rooms) atRest.set(room, await roomAtRest(live, room, auditorToken, population));
		clock.stop();
		quiesceMs = Date.now() - quiesceStart;

		// ---- audit (before anything is closed: a rejected publish must be the run's doing, not shutdown's)
		const activeAtEnd = new Set(population.active().map((c) => c.record.label));
		for (const c of population.all) if (c instanceof RawClient) c.finalize();
		result = check({ rooms: atRest, records: records(), activeAtEnd, resumeWindowMs: RESUME_WINDOW_MS });
	} catch (err) {
		harnessError = err instanceof Error ? (err.stack ?? err.message) : String(err);
		log(`chaos: harness error: ${harnessError}`);
	} finally {
		clock?.stop();
		await pop?.shutdown();
		await cluster?.stop();
		scanner.flush();
	}

	// Leaks are judged last: the scanner has seen every line by now, shutdown included.
	const leakFailures: Failure[] = scanner.leaks.map((l) => ({ check: "token-in-log", message: `${l.process}: ${l.what}: ${l.excerpt}` }));
	if (scanner.leakCount > scanner.leaks.length)
		leakFailures.push({ check: "token-in-log", message: `and ${scanner.leakCount - scanner.leaks.length} more lines` });
	const failures = [...(injector?.anomalies ?? []), ...result.failures, ...leakFailures];
	const byKind: Record<string, number> = {};
	for (const f of faultLog) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
	const closes: Record<string, number> = {};
	for (const c of pop?.all ?? []) for (const [code, n] of Object.entries(c.record.closes)) closes[code] = (closes[code] ?? 0) + n;
	const withSeq = failures.filter((f) => f.seq !== undefined).sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
	const first = withSeq[0];
	const publishedAt =
		first === undefined ? undefined : pop?.all.flatMap((c) => c.record.publishes).find((p) => p.room === first.room && p.seq === first.seq)?.issuedAt;
	return {
		seed: opts.seed,
		options: { seed: opts.seed, faults: opts.faults, minutes: opts.minutes, rooms: opts.rooms, clients: opts.clients, resultsDir: opts.resultsDir },
		ok: harnessError === undefined && failures.length === 0,
		durationMs: elapsed(),
		injectMs,
		quiesceMs,
		faults: { total: faultLog.length, byKind, tokenVia: { ...tokenVia, fetched: pop?.shortTokensFetched ?? 0 } },
		totals: result.totals,
		recovery: recoveryFigures(faultLog, clock?.slow ?? 0),
		heads,
		closes,
		clients: {
			sdk: (pop?.all.length ?? 0) - (pop?.rawCount ?? 0),
			raw: pop?.rawCount ?? 0,
			readOnly: pop?.readOnlyCount ?? 0,
			rotatingTokens: pop?.rotatingCount ?? 0,
			incarnations: pop?.all.length ?? 0,
		},
		scanned: { lines: scanner.lines, bytes: scanner.bytes, tokens: scanner.tokenCount },
		stoppedBy,
		failures,
		firstDivergentSeq: first?.seq ?? null,
		firstDivergentAtMs: publishedAt === undefined ? null : publishedAt - runStart,
		faultLog,
		...(harnessError === undefined ? {} : { harnessError }),
	};
}

/** The highest seq any client of `room` has seen delivered or acked. */
function headSeen(pop: Population, room: string): number {
	let head = 0;
	for (const c of pop.all) {
		if (c.record.room !== room) continue;
		head = Math.max(head, c.lastSeq());
		const ps = c.record.publishes;
		for (let i = Math.max(0, ps.length - 16); i < ps.length; i++) head = Math.max(head, ps[i]?.seq ?? 0);
	}
	return head;
}

async function headOf(cluster: RegionCluster, room: string, token: string): Promise<number> {
	const answer = await call(cluster, "GET", `/v1/rooms/${room}`, { token });
	const seq = (answer.body as { seq?: unknown }).seq;
	if (answer.status !== 200 || typeof seq !== "number") throw new Error(`GET /v1/rooms/${room} answered ${answer.status} ${JSON.stringify(answer.body)}`);
	return seq;
}

/**
 * The room at rest: presence (waited for until it equals the connected subs, or the deadline),
 * the home each gateway names, and the whole history.
 */
async function roomAtRest(cluster: RegionCluster, room: string, token: string, pop: Population): Promise<RoomAtRest> {
	const expected = () =>
		[
			...new Set(
				pop
					.active()
					.filter((c) => c.record.room === room && c.isOpen())
					.map((c) => c.record.sub),
			),
		].sort();
	let presence: string[] = [];
	await until(async () => {
		const answer = await call(cluster, "GET", `/v1/rooms/${room}`, { token });
		const list = (answer.body as { presence?: Array<{ sub: string }> }).presence ?? [];
		presence = list.map((p) => p.sub).sort();
		return presence.join("\n") === expected().join("\n");
	}, PRESENCE_TIMEOUT_MS);
	const homes: Record<string, string> = {};
	const heads: Record<string, number> = {};
	for (const region of CLUSTER_REGIONS) {
		const answer = await call(cluster, "GET", `/v1/rooms/${room}`, { token, via: region });
		const body = answer.body as { home?: unknown; seq?: unknown };
		homes[region] = String(body.home);
		heads[region] = Number(body.seq);
	}
	const history = await fetchHistory(cluster.gateway(CLUSTER_REGIONS[0]).url, room, token, MAX_HISTORY_PAGES);
	// Last (it would move the room if the anchor disagreed): the anchor must call the named home current.
	const probe = await call(cluster, "POST", `/v1/admin/rooms/${room}/migrate`, { body: { to: homes[CLUSTER_REGIONS[0]] } });
	return {
		history: history.messages,
		head: history.seq,
		oldest: history.oldest,
		presence,
		expectedPresence: expected(),
		homes,
		heads,
		migrateToHomeStatus: probe.status,
	};
}
