// The chat demo: one page on the baton client SDK (/baton-client.js) that shows what baton does
// for a chat. "Go offline 5 s" really drops the socket (room.suspend()) while the others keep
// posting; coming back resumes the session and replays what was missed, highlighted. Messages
// sent offline stay greyed until the room acknowledged them, then turn normal in place. The last
// 50 messages load on join and after a reload (room.history + the SDK's persist option). "Leave"
// is a goodbye (room.close(), 1000): the others see you go at once.
// Tokens come from the endpoint in <meta name="baton-token-endpoint"> (/dev/token in local dev).
import { CloseCode, connect } from "/baton-client.js";

const CLOSE_MEANINGS = {
	[CloseCode.Normal]: "normal closure",
	[CloseCode.GoingAway]: "going away",
	[CloseCode.UnsupportedData]: "unsupported data",
	[CloseCode.Abnormal]: "connection lost",
	[CloseCode.PolicyViolation]: "policy violation",
	[CloseCode.MessageTooBig]: "message too big",
	[CloseCode.InternalError]: "internal error",
	[CloseCode.ServiceRestart]: "service restart (drain)",
	[CloseCode.TryAgainLater]: "try again later",
	[CloseCode.ClientReconnect]: "dropped by this tab",
	[CloseCode.Unauthorized]: "token expired or invalid",
	[CloseCode.Forbidden]: "forbidden",
	[CloseCode.HeartbeatTimeout]: "heartbeat timeout",
	[CloseCode.RateLimited]: "rate limited",
	[CloseCode.RoomMoved]: "room moved",
	[CloseCode.SessionReplaced]: "session replaced",
	[CloseCode.BadRequest]: "bad request",
};

/** Messages shown on join and after a reload. */
const HISTORY_ON_JOIN = 50;
/** How long "Go offline" keeps the SDK offline. */
const OFFLINE_MS = 5_000;
/** Most messages kept on the page (the oldest go first). */
const MAX_SHOWN = 500;
/** Which room this tab joined, so a reload joins it again (the SDK's persist resumes the session). */
const JOINED_KEY = "baton-demo:joined";

const $ = (id) => document.getElementById(id);
const tokenEndpoint = document.querySelector('meta[name="baton-token-endpoint"]')?.content || "/dev/token";

/** The current connection and what the page shows of it; null when not joined. */
let session = null;

// ---- tokens ------------------------------------------------------------------------------------

class NoTokenEndpoint extends Error {}

async function fetchToken(name, roomName) {
	const url = new URL(tokenEndpoint, location.href);
	url.searchParams.set("sub", name);
	url.searchParams.set("name", name);
	url.searchParams.set("room", roomName);
	const res = await fetch(url, { credentials: "same-origin" });
	if (res.status === 404) throw new NoTokenEndpoint(`${tokenEndpoint} answered 404`);
	if (!res.ok) throw new Error(`the token endpoint ${tokenEndpoint} answered ${res.status}`);
	const body = await res.json();
	if (typeof body?.token !== "string") throw new Error(`the token endpoint ${tokenEndpoint} answered without a token`);
	return body.token;
}

function showNoTokenEndpoint() {
	$("token-endpoint").textContent = tokenEndpoint;
	$("no-token-endpoint").hidden = false;
	$("join").querySelector("button").disabled = true;
}

// ---- the log and the status bar ----------------------------------------------------------------

function logLine(text) {
	const li = document.createElement("li");
	li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
	$("log").prepend(li);
	while ($("log").children.length > 200) $("log").lastElementChild.remove();
}

function showState(state) {
	$("state").textContent = session?.room.suspended ? `${state} (offline)` : state;
	$("state").dataset.state = state;
}

// ---- messages ----------------------------------------------------------------------------------

function span(className, text) {
	return Object.assign(document.createElement("span"), { className, textContent: text });
}

function textOf(data) {
	return typeof data?.text === "string" ? data.text : JSON.stringify(data);
}

/** One message line: seq, sender, text, and a tag saying "pending", "replayed" or why it failed. */
function messageItem({ seq, id, from, text }) {
	const li = document.createElement("li");
	li.dataset.id = id;
	if (seq !== undefined) li.dataset.seq = String(seq);
	li.append(span("seq", seq === undefined ? "…" : `#${seq}`), span("from", from), span("text", text), span("tag", ""));
	return li;
}

/**
 * Puts `li` after the last stored message with a lower seq: pending lines stay at the bottom,
 * and history loaded after live messages goes above them. A line already in place is not moved.
 */
function place(li, seq) {
	const list = $("messages");
	let node = list.lastElementChild;
	while (node !== null && (node === li || node.dataset.seq === undefined || Number(node.dataset.seq) > seq)) node = node.previousElementSibling;
	if (node === null) {
		if (list.firstElementChild !== li) list.prepend(li);
	} else if (node.nextElementSibling !== li) node.after(li);
	while (list.children.length > MAX_SHOWN) list.firstElementChild.remove();
}

function scrollToEnd() {
	$("messages").scrollTop = $("messages").scrollHeight;
}

/** A publish of this tab, shown greyed until its ack. */
function showPending(id, text) {
	const li = messageItem({ id, from: session.name, text });
	li.classList.add("pending");
	li.querySelector(".tag").textContent = session.room.suspended || session.room.state !== "open" ? "waiting to send" : "sending";
	session.own.set(id, li);
	$("messages").append(li);
	scrollToEnd();
}

/** The room stored a publish of this tab: the greyed line becomes a message, where it stands. */
function confirmOwn(id, seq) {
	const li = session.own.get(id);
	if (li === undefined) return;
	session.own.delete(id);
	li.classList.remove("pending");
	li.dataset.seq = String(seq);
	li.querySelector(".seq").textContent = `#${seq}`;
	li.querySelector(".tag").textContent = "";
	session.shown.set(seq, li);
	place(li, seq);
}

function failOwn(id, code, message) {
	const li = session.own.get(id);
	if (li === undefined) return;
	session.own.delete(id);
	li.classList.remove("pending");
	li.classList.add("failed");
	li.querySelector(".tag").textContent = `not sent: ${code}`;
	li.title = message;
}

/** A stored message (live, replayed or from history), shown once by seq. */
function showMessage(m, { replayed }) {
	if (session.own.has(m.id)) confirmOwn(m.id, m.seq);
	const known = session.shown.get(m.seq);
	if (known !== undefined) {
		// Our own line, confirmed: show the text as the room stored it (the room trims it).
		known.querySelector(".text").textContent = textOf(m.data);
		return;
	}
	const li = messageItem({ seq: m.seq, id: m.id, from: m.from, text: textOf(m.data) });
	if (replayed) {
		li.classList.add("replayed");
		li.querySelector(".tag").textContent = "replayed";
	}
	session.shown.set(m.seq, li);
	place(li, m.seq);
}

// ---- presence ----------------------------------------------------------------------------------

function renderPresence() {
	const room = session.room;
	$("presence-count").textContent = String(room.presenceCount);
	$("presence").replaceChildren(
		...room.presence.map((p) => {
			const li = document.createElement("li");
			li.textContent = p.name;
			li.dataset.sub = p.sub;
			if (p.sub === session.name) li.classList.add("me");
			return li;
		}),
	);
}

// ---- joining and leaving -----------------------------------------------------------------------

function showJoinForm(note) {
	$("app").hidden = true;
	$("join").hidden = false;
	$("join-note").textContent = note;
}

async function join(name, roomName) {
	let token;
	try {
		token = await fetchToken(name, roomName);
	} catch (err) {
		if (err instanceof NoTokenEndpoint) showNoTokenEndpoint();
		sessionStorage.removeItem(JOINED_KEY);
		showJoinForm(`Could not join: ${err.message}`);
		return;
	}
	sessionStorage.setItem(JOINED_KEY, JSON.stringify({ name, room: roomName }));
	$("join").hidden = true;
	$("app").hidden = false;
	$("room-title").textContent = roomName;
	$("messages").replaceChildren();
	$("resume-note").textContent = "";
	for (const id of ["resumes", "gaps"]) $(id).textContent = "0";

	let prefetched = token;
	const room = connect({
		url: location.origin,
		room: roomName,
		// The first call gets the token fetched above; later ones (expiry, 4001) ask again.
		token: () => {
			const first = prefetched;
			prefetched = null;
			return first ?? fetchToken(name, roomName);
		},
		// Resume token, lastSeq and unacknowledged publishes in sessionStorage: a reload resumes.
		persist: true,
	});
	session = { room, name, roomName, own: new Map(), shown: new Map(), historyLoaded: false, resumes: 0, gaps: 0, offlineTimer: null };
	const current = session;
	/** Messages with a seq in (after, upTo] are the last resume's replay. */
	let replay = null;

	// Publishes restored from before a reload: greyed until their ack event.
	for (const p of room.pending) showPending(p.id, textOf(p.data));
	showState(room.state);
	room.on("state", ({ to }) => showState(to));
	room.on("welcome", (w) => {
		if (w.resumed) {
			$("resumes").textContent = String(++current.resumes);
			replay = { after: room.lastSeq, upTo: w.seq };
			for (const li of $("messages").querySelectorAll("li.replayed")) {
				li.classList.remove("replayed");
				li.querySelector(".tag").textContent = "";
			}
			$("resume-note").textContent = `resumed, replayed ${w.replayed}`;
			$("resume-note").classList.add("resumed");
		}
		renderPresence();
		$("last-seq").textContent = String(room.lastSeq);
		logLine(`welcome: session ${w.session.slice(0, 8)} resumed=${w.resumed} replayed=${w.replayed} head=${w.seq} home=${w.home}`);
		if (!current.historyLoaded) {
			current.historyLoaded = true;
			// Everything up to where live delivery starts; live messages and replays come as events.
			room
				.history({ before: room.lastSeq + 1, limit: HISTORY_ON_JOIN })
				.then((page) => {
					if (session !== current) return;
					for (const m of page.messages) showMessage(m, { replayed: false });
					scrollToEnd();
				})
				.catch((err) => logLine(`history failed: ${err.code ?? ""} ${err.message}`));
		}
	});
	room.on("message", (m) => {
		showMessage(m, { replayed: replay !== null && m.seq > replay.after && m.seq <= replay.upTo });
		scrollToEnd();
		$("last-seq").textContent = String(room.lastSeq);
	});
	room.on("ack", ({ id, seq, dup }) => {
		confirmOwn(id, seq);
		logLine(`acked as #${seq}${dup ? " (a duplicate: stored once)" : ""}`);
	});
	for (const type of ["presence", "presence_state", "presence_count"]) room.on(type, renderPresence);
	room.on("close", ({ code, reason, willReconnect }) => {
		// 4000 is this tab's own close: its reason says why (suspended, heartbeat_timeout, …).
		const why = code === CloseCode.ClientReconnect && reason ? ` (${reason})` : "";
		$("last-close").textContent = `${code} ${CLOSE_MEANINGS[code] ?? ""}${why}`;
		logLine(`close ${code} (${CLOSE_MEANINGS[code] ?? "unknown"}${reason ? `: ${reason}` : ""})${willReconnect ? ", resuming" : ""}`);
	});
	room.on("gap", () => {
		$("gaps").textContent = String(++current.gaps);
		logLine("gap: some history is no longer kept");
	});
	room.on("error", (e) => {
		logLine(`error ${e.code}: ${e.message}`);
		// A publish restored from before a reload, refused now.
		if (e.publishId !== undefined) failOwn(e.publishId, e.code, e.message);
	});
}

function leave() {
	if (session === null) return;
	clearTimeout(session.offlineTimer);
	session.room.close();
	session = null;
	sessionStorage.removeItem(JOINED_KEY);
	$("offline").disabled = false;
	$("offline").textContent = "Go offline 5 s";
	showJoinForm("You left: the others saw you go at once (a goodbye, close 1000).");
	logLine("left the room");
}

// ---- controls ----------------------------------------------------------------------------------

$("join").addEventListener("submit", (e) => {
	e.preventDefault();
	void join($("name").value.trim(), $("room").value.trim());
});

$("send").addEventListener("submit", (e) => {
	e.preventDefault();
	if (session === null) return;
	const text = $("text").value;
	$("text").value = "";
	const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
	showPending(id, text);
	const current = session;
	// The room's onPublish may refuse it (empty once trimmed, too long): the line says why.
	current.room.publish({ text }, { id }).catch((err) => {
		if (session === current) failOwn(id, err.code, err.message);
	});
});

$("offline").addEventListener("click", () => {
	if (session === null || session.room.suspended) return;
	const current = session;
	current.room.suspend();
	showState(current.room.state);
	const until = Date.now() + OFFLINE_MS;
	$("offline").disabled = true;
	$("resume-note").classList.remove("resumed");
	const tick = () => {
		if (session !== current) return;
		const left = Math.ceil((until - Date.now()) / 1000);
		if (left > 0) {
			$("offline").textContent = `Offline… ${left} s`;
			$("resume-note").textContent = `offline for ${left} s: the others keep posting; what you send now waits, greyed`;
			current.offlineTimer = setTimeout(tick, Math.min(1000, until - Date.now()));
			return;
		}
		$("offline").disabled = false;
		$("offline").textContent = "Go offline 5 s";
		$("resume-note").textContent = "back online: resuming…";
		current.room.resume();
		logLine("back online after 5 s");
	};
	tick();
	logLine("offline for 5 s (room.suspend())");
});

$("drain").addEventListener("click", async () => {
	if (session === null) return;
	const res = await fetch(`/dev/rooms/${encodeURIComponent(session.roomName)}/drain`, { method: "POST" });
	logLine(`drain: ${res.ok ? JSON.stringify(await res.json()) : res.status}`);
});

$("leave").addEventListener("click", leave);

// ---- start -------------------------------------------------------------------------------------

// A reload joins the same room again; the SDK resumes the saved session.
const joined = JSON.parse(sessionStorage.getItem(JOINED_KEY) ?? "null");
if (joined !== null && typeof joined.name === "string" && typeof joined.room === "string") {
	$("name").value = joined.name;
	$("room").value = joined.room;
	void join(joined.name, joined.room);
}
