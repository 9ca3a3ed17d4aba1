/**
 * Resume tokens only ever continue their own session (CONTRACT.md §4, §5): a token presented by
 * another sub, in another room, after its window, or altered in any byte starts a fresh session
 * (`resumed:false`, a new session id) and never touches the owner's connection; a bad access
 * token is refused (4001) whatever resume token comes with it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloseCode } from "../../protocol/close-codes.ts";
import { signAccessToken } from "../../src/core/auth/sign.ts";
import { mintToken, range, seqs, TestClient, uniqueRoom } from "./harness/client.ts";
import { DevServer, TEST_SECRET } from "./harness/server.ts";

const RESUME_WINDOW_MS = 2000;
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** `token` with the character at `at` replaced by another base64url character. */
function flipAt(token: string, at: number): string {
	const c = token[at] ?? "";
	const i = BASE64URL.indexOf(c);
	if (i === -1) throw new Error(`position ${at} holds ${JSON.stringify(c)}, not a base64url character`);
	return token.slice(0, at) + BASE64URL[i ^ 1] + token.slice(at + 1);
}

/** Fails the test with a diagnostic if `client` has been closed. */
function expectStillOpen(client: TestClient): void {
	expect(client.closeInfo, `${client.label} was closed`).toBeNull();
}

describe(`resume tokens on a server with RESUME_WINDOW_MS=${RESUME_WINDOW_MS}`, () => {
	let server: DevServer;
	beforeAll(async () => {
		server = await DevServer.start({ vars: { RESUME_WINDOW_MS: String(RESUME_WINDOW_MS) } });
	});
	afterAll(async () => {
		await server?.stop();
	});

	it("a resume token presented with another sub's access token starts a fresh session and leaves the owner's connection alone", async () => {
		const room = uniqueRoom("sec-sub");
		const { client: alice, welcome: aw } = await TestClient.connect(server.wsUrl, room, await mintToken("alice", [room]), {}, "alice");
		const { client: mallory, welcome: mw } = await TestClient.connect(
			server.wsUrl,
			room,
			await mintToken("mallory", [room]),
			{ resume: aw.resume, after: 0 },
			"mallory",
		);
		expect(mw).toMatchObject({ resumed: false });
		expect(mw.session).not.toBe(aw.session);
		// Alice's session was not replaced (no 4011) and still works.
		expect(await alice.publish("a1", "still mine")).toMatchObject({ type: "ack", seq: 1, dup: false });
		expectStillOpen(alice);
		// Mallory's publish with Alice's id is a new message in Mallory's own session.
		expect(await mallory.publish("a1", "not a dup")).toMatchObject({ type: "ack", seq: 2, dup: false });
		await Promise.all([alice.close(), mallory.close()]);
	});

	it("a resume token presented in another room starts a fresh session there and leaves the owner's connection alone", async () => {
		const roomA = uniqueRoom("sec-room-a");
		const roomB = uniqueRoom("sec-room-b");
		const token = await mintToken("alice", [roomA, roomB]);
		const { client: inA, welcome: wa } = await TestClient.connect(server.wsUrl, roomA, token, {}, "alice-in-A");
		const { client: inB, welcome: wb } = await TestClient.connect(server.wsUrl, roomB, token, { resume: wa.resume, after: 0 }, "alice-in-B");
		expect(wb).toMatchObject({ resumed: false });
		expect(wb.session).not.toBe(wa.session);
		expect(await inA.publish("a1", 1)).toMatchObject({ type: "ack", seq: 1, dup: false });
		expectStillOpen(inA);
		await Promise.all([inA.close(), inB.close()]);
	});

	it("a resume token with any one character altered starts a fresh session and never replaces the owner's", async () => {
		const room = uniqueRoom("sec-flip");
		const token = await mintToken("alice", [room]);
		const { client: owner, welcome } = await TestClient.connect(server.wsUrl, room, token, {}, "owner");
		// (Local workerd ends the TCP of a replaced socket ~10 s late unless it has sent a frame.)
		expect(await owner.publish("o1", 1)).toMatchObject({ type: "ack", seq: 1 });
		const dot = welcome.resume.indexOf(".");
		const last = welcome.resume.length - 1;
		// Payload start, middle and end; signature start, middle and its last character (whose
		// low bits are base64 padding: a lenient decoder reads two different strings as one MAC).
		const positions = [0, Math.floor(dot / 2), dot - 1, dot + 1, Math.floor((dot + last) / 2), last];
		for (const at of positions) {
			const altered = flipAt(welcome.resume, at);
			expect(altered).not.toBe(welcome.resume);
			const { client, welcome: w } = await TestClient.connect(server.wsUrl, room, token, { resume: altered }, `flip@${at}`);
			expect(w.resumed, `flipped character ${at} of ${welcome.resume.length}`).toBe(false);
			expect(w.session).not.toBe(welcome.session);
			await client.close();
		}
		expectStillOpen(owner);
		// The unaltered token still resumes (the control): the owner is then replaced with 4011.
		const { client: again, welcome: w2 } = await TestClient.connect(server.wsUrl, room, token, { resume: welcome.resume }, "owner-again");
		expect(w2).toMatchObject({ resumed: true, session: welcome.session });
		expect((await owner.waitClosed()).code).toBe(CloseCode.SessionReplaced);
		await again.close();
	});

	it("a resume token used after RESUME_WINDOW_MS has passed since the close starts a fresh session that still gets the replay it asked for", async () => {
		const room = uniqueRoom("sec-expired");
		const token = await mintToken("alice", [room]);
		const { client, welcome } = await TestClient.connect(server.wsUrl, room, token, {}, "alice");
		for (let i = 1; i <= 3; i++) expect(await client.publish(`m${i}`, i)).toMatchObject({ seq: i });
		await client.close();
		const closedAt = Date.now();
		// A timed wait on purpose: the resume window itself, plus a margin for clock reads.
		await new Promise((r) => setTimeout(r, RESUME_WINDOW_MS + 500));
		expect(Date.now() - closedAt).toBeGreaterThan(RESUME_WINDOW_MS);
		const { client: late, welcome: w } = await TestClient.connect(server.wsUrl, room, token, { resume: welcome.resume, after: 0 }, "alice-late");
		expect(w).toMatchObject({ resumed: false, replayed: 3, seq: 3, gap: false });
		expect(w.session).not.toBe(welcome.session);
		// The replay is read access, not session continuity: it still comes, in order.
		expect(seqs(await late.waitForMessages(3))).toEqual(range(1, 3));
		// The old session's dedupe records are gone with it: the same id is a new message now.
		expect(await late.publish("m1", "again")).toMatchObject({ type: "ack", seq: 4, dup: false });
		await late.close();
	});

	it("a session that stayed connected longer than RESUME_WINDOW_MS can still be resumed right after its close", async () => {
		const room = uniqueRoom("sec-long");
		const token = await mintToken("alice", [room]);
		const { client, welcome } = await TestClient.connect(server.wsUrl, room, token, {}, "alice");
		expect(await client.publish("m1", 1)).toMatchObject({ seq: 1, dup: false });
		// A timed wait on purpose: stay connected for longer than the window (the window starts
		// at the close, CONTRACT.md §5, not when the token was issued).
		await new Promise((r) => setTimeout(r, RESUME_WINDOW_MS + 500));
		expect(await client.publish("m2", 2)).toMatchObject({ seq: 2, dup: false });
		await client.close();
		const { client: back, welcome: w } = await TestClient.connect(server.wsUrl, room, token, { resume: welcome.resume, after: 2 }, "alice-back");
		expect(w).toMatchObject({ resumed: true, session: welcome.session, replayed: 0 });
		expect(await back.publish("m2", 2)).toMatchObject({ type: "ack", seq: 2, dup: true });
		await back.close();
	});

	it("a bad access token is refused with 4001 even with a valid resume token, and the owner's session is untouched", async () => {
		const room = uniqueRoom("sec-bad-access");
		const { client: owner, welcome } = await TestClient.connect(server.wsUrl, room, await mintToken("alice", [room]), {}, "owner");
		const now = Math.floor(Date.now() / 1000);
		const badTokens: Record<string, string> = {
			"wrong secret": await signAccessToken({ sub: "alice", rooms: [room], exp: now + 600 }, "not-the-server-secret-0123456789abcdef"),
			expired: await signAccessToken({ sub: "alice", rooms: [room], exp: now - 600 }, TEST_SECRET),
			garbage: "not.a.jwt",
		};
		for (const [why, bad] of Object.entries(badTokens)) {
			const client = await TestClient.open(server.wsUrl, room, bad, { resume: welcome.resume, after: 0 }, `bad-access (${why})`);
			const close = await client.waitClosed();
			expect(close.code, why).toBe(CloseCode.Unauthorized);
			expect(JSON.parse(close.reason), why).toEqual({ code: "unauthorized" });
			expect(client.frames, why).toEqual([]);
		}
		expectStillOpen(owner);
		expect(await owner.publish("a1", 1)).toMatchObject({ type: "ack", seq: 1, dup: false });
		await owner.close();
	});
});
