/**
 * Migration downtime (CONTRACT.md §8): a room of N clients (distinct users) with a log of M
 * messages moves to another region. Every client resumes at once on its 4010 close frame
 * (`?resume=…&after=<its seq>`, as the SDK does), at the new home. Reported: the migrate request's
 * time, the downtime (first 4010 close frame → last client's welcome at the new home) and each
 * client's gap (its 4010 → its own welcome). Each client pings once after its welcome so local
 * workerd sends it the close promptly (it holds server closes for sockets that never sent a frame).
 */
import { CloseCode } from "../../protocol/close-codes.ts";
import { MessageType, parseServerFrame } from "../../protocol/messages.ts";
import { type BenchSocket, closeAll, now, openMany, openSocket } from "../lib/load.ts";
import type { Sizes } from "../lib/sizes.ts";
import { round, type Summary, summarize } from "../lib/stats.ts";
import type { Target } from "../lib/targets.ts";
import { publishLoop } from "./fanout.ts";

export interface MigrationResult {
	clients: number;
	log: number;
	/** `moved` in the migrate answer (sockets told to move). */
	moved: number;
	migrateRequestMs: number;
	/** First 4010 close frame → last client's welcome at the new home, ms. */
	downtimeMs: number;
	/** Per client: its 4010 close frame → its own welcome, ms. */
	gapMs: Summary;
	/** Welcomes at the new home that resumed the session, and that replayed nothing (nothing missed). */
	resumed: number;
	failures: number;
	failureSamples: string[];
	timedOut: boolean;
}

interface Client {
	socket: BenchSocket;
	sub: string;
	resume: string;
	seq: number;
	movedAt: number | null;
	welcomeAt: number | null;
	resumed: boolean;
	error: string | null;
}

export async function runMigration(target: Target, room: string, sizes: Sizes, to = "weur"): Promise<MigrationResult> {
	const writer = (await openSocket(target.socket(room, "writer"))).socket;
	const fill = publishLoop(writer, sizes.migrationLog, 32, sizes.phaseDeadlineMs);
	await fill.done;
	const opened = await openMany(sizes.migrationClients, sizes.connectConcurrency, sizes.phaseDeadlineMs, (i) => target.socket(room, `m${i}`));
	const clients: Client[] = opened.sockets.map((socket, k) => {
		const welcome = parseServerFrame(socket.firstFrame ?? "");
		const w = welcome.ok && welcome.value.type === MessageType.Welcome ? welcome.value : null;
		return { socket, sub: `m${opened.indexes[k]}`, resume: w?.resume ?? "", seq: w?.seq ?? 0, movedAt: null, welcomeAt: null, resumed: false, error: null };
	});
	const reopened: BenchSocket[] = [];
	let pending = clients.length;
	let allBack: () => void = () => {};
	const back = new Promise<void>((res) => {
		allBack = res;
	});
	const settle = () => {
		if (--pending === 0) allBack();
	};
	for (const c of clients) {
		c.socket.send("ping");
		c.socket.onCloseFrame((code, _reason, at) => {
			if (code !== CloseCode.RoomMoved || c.movedAt !== null) return;
			c.movedAt = at;
			openSocket(target.socket(room, c.sub, { resume: c.resume, after: c.seq }))
				.then((o) => {
					reopened.push(o.socket);
					c.welcomeAt = o.socket.firstFrame === null ? null : now();
					const w = parseServerFrame(o.socket.firstFrame ?? "");
					c.resumed = w.ok && w.value.type === MessageType.Welcome && w.value.resumed && w.value.replayed === 0;
				})
				.catch((err: unknown) => {
					c.error = err instanceof Error ? err.message : String(err);
				})
				.finally(settle);
		});
	}
	const started = now();
	const answer = (await target.admin("POST", `/v1/admin/rooms/${encodeURIComponent(room)}/migrate`, { to })) as { moved?: unknown };
	const migrateRequestMs = now() - started;
	const timedOut =
		(await Promise.race([back.then(() => false), new Promise<boolean>((res) => setTimeout(() => res(true), sizes.phaseDeadlineMs).unref())])) === true;
	await closeAll([writer, ...clients.map((c) => c.socket), ...reopened]);
	const moved = clients.filter((c) => c.movedAt !== null);
	const done = moved.filter((c) => c.welcomeAt !== null);
	const firstMoved = Math.min(...moved.map((c) => c.movedAt ?? Number.POSITIVE_INFINITY));
	const lastWelcome = Math.max(...done.map((c) => c.welcomeAt ?? 0));
	const errors = clients.flatMap((c) => (c.error === null ? [] : [c.error]));
	return {
		clients: clients.length,
		log: sizes.migrationLog,
		moved: typeof answer.moved === "number" ? answer.moved : Number.NaN,
		migrateRequestMs: round(migrateRequestMs, 1),
		downtimeMs: done.length > 0 ? round(lastWelcome - firstMoved, 1) : Number.NaN,
		gapMs: summarize(done.map((c) => (c.welcomeAt ?? 0) - (c.movedAt ?? 0))),
		resumed: clients.filter((c) => c.resumed).length,
		failures: clients.length - done.length,
		failureSamples: errors.slice(0, 5),
		timedOut,
	};
}
