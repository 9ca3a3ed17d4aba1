/**
 * The wire format, pinned by golden frames (test/unit/fixtures/wire-frames.ts): every server frame
 * parses to its typed value and serializes back byte for byte; client frames parse into the
 * publish/auth union or are refused with a reason (and the id when one is readable).
 */
import { describe, expect, it } from "vitest";
import { type ClientFrame, MAX_CLIENT_ID_LENGTH, parseClientFrame, parseServerFrame, type ServerFrame } from "../../protocol/messages.ts";
import { CLIENT_FRAMES, SERVER_FRAMES } from "./fixtures/wire-frames.ts";

const EXPECTED_SERVER: Record<keyof typeof SERVER_FRAMES, ServerFrame> = {
	welcome: {
		type: "welcome",
		session: "5f0c6a8e-7c1d-4d7e-9a51-2b9b8f1e0a11",
		resume: "eyJyIjoibG9iYnkifQ.c2ln",
		seq: 42,
		resumed: false,
		replayed: 2,
		gap: false,
		region: "wnam",
		home: "weur",
		heartbeat: { interval: 30000, timeout: 90000 },
		presence: [
			{ sub: "alice", name: "Alice" },
			{ sub: "bob", name: "bob" },
		],
		epoch: "q1Xm0bLr3pHkT9vZcN2aYw",
		reset: false,
	},
	message: { type: "message", seq: 43, id: "c-1", from: "alice", data: { text: "hi", n: [1, 2, 3] }, ts: 1767225600000 },
	messageNullData: { type: "message", seq: 44, id: "c-2", from: "alice", data: null, ts: 1767225600001 },
	ack: { type: "ack", id: "c-1", seq: 43, dup: false },
	ackDup: { type: "ack", id: "c-1", seq: 43, dup: true },
	presenceJoin: { type: "presence", event: "join", sub: "bob", name: "bob" },
	presenceLeave: { type: "presence", event: "leave", sub: "bob", name: "Bob B." },
	errorWithId: { type: "error", code: "rate_limited", message: "publish rate exceeded", id: "c-9" },
	errorWithoutId: { type: "error", code: "bad_message", message: "frame is not JSON" },
	errorRoomMoving: { type: "error", code: "room_moving", message: "the room is moving", id: "c-10", retryIn: 750 },
	authOk: { type: "auth_ok", exp: 1767229200 },
	welcomeCountMode: {
		type: "welcome",
		session: "s-2",
		resume: "r.2",
		seq: 7,
		resumed: true,
		replayed: 0,
		gap: false,
		region: "wnam",
		home: "wnam",
		heartbeat: { interval: 30000, timeout: 90000 },
		presence: [{ sub: "carol", name: "Carol" }],
		presenceCount: 250,
		presenceTruncated: true,
	},
	welcomeEventMode: {
		type: "welcome",
		session: "s-3",
		resume: "r.3",
		seq: 0,
		resumed: false,
		replayed: 0,
		gap: false,
		region: "wnam",
		home: "wnam",
		heartbeat: { interval: 30000, timeout: 90000 },
		presence: [{ sub: "dan", name: "dan" }],
		presenceCount: 1,
	},
	presenceCount: { type: "presence_count", count: 251 },
	presenceState: {
		type: "presence_state",
		presence: [
			{ sub: "alice", name: "Alice" },
			{ sub: "bob", name: "bob" },
		],
		count: 2,
	},
};

describe("parseServerFrame on golden frames", () => {
	for (const [name, text] of Object.entries(SERVER_FRAMES)) {
		it(`parses the golden ${name} frame and serializes it back byte for byte`, () => {
			const parsed = parseServerFrame(text);
			expect(parsed).toEqual({ ok: true, value: EXPECTED_SERVER[name as keyof typeof SERVER_FRAMES] });
			if (parsed.ok) expect(JSON.stringify(parsed.value)).toBe(text);
		});
	}

	it("drops a welcome's presenceCount or presenceTruncated that is mistyped, keeping the rest of the welcome", () => {
		const welcome = JSON.parse(SERVER_FRAMES.welcome) as Record<string, unknown>;
		const parsed = parseServerFrame(JSON.stringify({ ...welcome, presenceCount: "250", presenceTruncated: 1 }));
		expect(parsed).toEqual({ ok: true, value: EXPECTED_SERVER.welcome });
	});

	it("drops fields it does not know instead of passing them through", () => {
		const parsed = parseServerFrame('{"type":"ack","id":"a","seq":1,"dup":false,"extra":1}');
		expect(parsed).toEqual({ ok: true, value: { type: "ack", id: "a", seq: 1, dup: false } });
	});
});

describe("parseServerFrame refuses malformed frames", () => {
	const welcome = JSON.parse(SERVER_FRAMES.welcome) as Record<string, unknown>;
	const cases: Array<[string, string]> = [
		["text that is not JSON", "pong"],
		["a JSON array", "[]"],
		["JSON null", "null"],
		["an unknown type", '{"type":"hello"}'],
		["no type", '{"seq":1}'],
		...(["session", "resume", "seq", "resumed", "replayed", "gap", "region", "home", "heartbeat", "presence"] as const).map((field): [string, string] => [
			`a welcome without ${field}`,
			JSON.stringify({ ...welcome, [field]: undefined }),
		]),
		["a welcome with a negative seq", JSON.stringify({ ...welcome, seq: -1 })],
		["a welcome with a fractional seq", JSON.stringify({ ...welcome, seq: 1.5 })],
		["a welcome with a string seq", JSON.stringify({ ...welcome, seq: "1" })],
		["a welcome with a heartbeat missing timeout", JSON.stringify({ ...welcome, heartbeat: { interval: 1 } })],
		["a welcome with a bad presence entry", JSON.stringify({ ...welcome, presence: [{ sub: "a" }] })],
		["a message without from", '{"type":"message","seq":1,"id":"a","data":1,"ts":1}'],
		["a message without ts", '{"type":"message","seq":1,"id":"a","from":"x","data":1}'],
		["a message with seq as a string", '{"type":"message","seq":"1","id":"a","from":"x","data":1,"ts":1}'],
		["an ack with dup as a string", '{"type":"ack","id":"a","seq":1,"dup":"false"}'],
		["an ack without id", '{"type":"ack","seq":1,"dup":false}'],
		["a presence with an unknown event", '{"type":"presence","event":"update","sub":"a","name":"a"}'],
		["an error with an unknown code", '{"type":"error","code":"teapot","message":"m"}'],
		["an error without message", '{"type":"error","code":"bad_message"}'],
		["an auth_ok with exp as a string", '{"type":"auth_ok","exp":"1"}'],
		["a presence_count without count", '{"type":"presence_count"}'],
		["a presence_count with a negative count", '{"type":"presence_count","count":-1}'],
		["a presence_count with a fractional count", '{"type":"presence_count","count":2.5}'],
		["a presence_state without presence", '{"type":"presence_state","count":2}'],
		["a presence_state without count", '{"type":"presence_state","presence":[]}'],
		["a presence_state with a bad entry", '{"type":"presence_state","presence":[{"sub":"a"}],"count":1}'],
	];
	for (const [name, text] of cases) {
		it(`refuses ${name}`, () => {
			const parsed = parseServerFrame(text);
			expect(parsed.ok).toBe(false);
			if (!parsed.ok) expect(parsed.reason).toEqual(expect.any(String));
		});
	}
});

describe("parseClientFrame", () => {
	const expected: Record<keyof typeof CLIENT_FRAMES, ClientFrame> = {
		publish: { type: "publish", id: "c-1", data: { text: "hi" } },
		publishNull: { type: "publish", id: "c-2", data: null },
		publishScalar: { type: "publish", id: "c-3", data: 7 },
		auth: { type: "auth", token: "eyJhbGciOiJIUzI1NiJ9.e30.sig" },
		read: { type: "read", seq: 42 },
	};
	for (const [name, text] of Object.entries(CLIENT_FRAMES)) {
		it(`parses the golden ${name} frame and serializes it back byte for byte`, () => {
			const parsed = parseClientFrame(text);
			expect(parsed).toEqual({ ok: true, value: expected[name as keyof typeof CLIENT_FRAMES] });
			if (parsed.ok) expect(JSON.stringify(parsed.value)).toBe(text);
		});
	}

	it("accepts ids of 1 and 64 characters, and drops unknown fields", () => {
		expect(parseClientFrame('{"type":"publish","id":"a","data":1,"x":2}')).toEqual({ ok: true, value: { type: "publish", id: "a", data: 1 } });
		const long = "i".repeat(MAX_CLIENT_ID_LENGTH);
		expect(parseClientFrame(JSON.stringify({ type: "publish", id: long, data: 1 })).ok).toBe(true);
	});

	const refused: Array<[string, string, string | undefined]> = [
		["text that is not JSON", "hello", undefined],
		["the ping literal (answered by the runtime, never parsed)", "ping", undefined],
		["a JSON array", "[1]", undefined],
		["JSON null", "null", undefined],
		["a JSON number", "42", undefined],
		["an unknown type, echoing a readable id", '{"type":"nope","id":"u1"}', "u1"],
		["no type, echoing a readable id", '{"id":"t1","data":1}', "t1"],
		["a server frame type sent by a client", '{"type":"ack","id":"a1","seq":1,"dup":false}', "a1"],
		["a publish without id", '{"type":"publish","data":1}', undefined],
		["a publish with an empty id", '{"type":"publish","id":"","data":1}', undefined],
		["a publish with a 65-character id", JSON.stringify({ type: "publish", id: "i".repeat(65), data: 1 }), undefined],
		["a publish with a numeric id", '{"type":"publish","id":5,"data":1}', undefined],
		["a publish without data, echoing the id", '{"type":"publish","id":"d1"}', "d1"],
		["an auth without token", '{"type":"auth"}', undefined],
		["an auth with an empty token", '{"type":"auth","token":""}', undefined],
		["an auth with a numeric token", '{"type":"auth","token":1}', undefined],
		["a read without seq", '{"type":"read"}', undefined],
		["a read with a negative seq", '{"type":"read","seq":-1}', undefined],
		["a read with a fractional seq", '{"type":"read","seq":1.5}', undefined],
		["a read with a string seq", '{"type":"read","seq":"3"}', undefined],
	];
	for (const [name, text, id] of refused) {
		it(`refuses ${name}`, () => {
			const parsed = parseClientFrame(text);
			expect(parsed.ok).toBe(false);
			if (parsed.ok) return;
			expect(parsed.reason).toEqual(expect.any(String));
			expect(parsed.id).toBe(id);
		});
	}
});

describe("an app's own error code (onPublish rejection)", () => {
	it("parses as an error frame when it answers a publish (carries its id)", () => {
		expect(parseServerFrame('{"type":"error","code":"invalid_vote","message":"one vote per sub","id":"p1"}')).toEqual({
			ok: true,
			value: { type: "error", code: "invalid_vote", message: "one vote per sub", id: "p1" },
		});
	});
	it("is refused without an id or with a code that is not snake_case", () => {
		expect(parseServerFrame('{"type":"error","code":"invalid_vote","message":"m"}').ok).toBe(false);
		expect(parseServerFrame('{"type":"error","code":"Not Snake","message":"m","id":"p1"}').ok).toBe(false);
	});
});
