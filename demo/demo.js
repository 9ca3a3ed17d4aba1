// The demo page: a small chat on the baton client SDK (/baton-client.js, bundled from
// client/). Tokens come from the dev-only /dev/token route.
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
	[CloseCode.Unauthorized]: "token expired or invalid",
	[CloseCode.Forbidden]: "forbidden",
	[CloseCode.HeartbeatTimeout]: "heartbeat timeout",
	[CloseCode.RateLimited]: "rate limited",
	[CloseCode.RoomMoved]: "room moved",
	[CloseCode.SessionReplaced]: "session replaced",
	[CloseCode.BadRequest]: "bad request",
};

const $ = (id) => document.getElementById(id);
let room = null;
const counters = { resumes: 0, gaps: 0 };

function logLine(text) {
	const li = document.createElement("li");
	li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
	$("log").prepend(li);
}

async function fetchToken(sub, roomName) {
	const res = await fetch(`/dev/token?sub=${encodeURIComponent(sub)}&name=${encodeURIComponent(sub)}&room=${encodeURIComponent(roomName)}`);
	if (!res.ok) throw new Error(`no dev token (${res.status}): this page mints tokens only in local dev`);
	return (await res.json()).token;
}

function renderPresence(entries) {
	$("presence").replaceChildren(
		...entries.map((p) => {
			const li = document.createElement("li");
			li.textContent = p.name;
			li.dataset.sub = p.sub;
			return li;
		}),
	);
}

function join(name, roomName) {
	const present = new Map();
	room = connect({ url: location.origin, room: roomName, token: () => fetchToken(name, roomName) });
	const showState = (state) => {
		$("state").textContent = state;
		$("state").dataset.state = state;
	};
	// The first state ("connecting") is the room's initial one, not a `state` event.
	showState(room.state);
	room.on("state", ({ to }) => showState(to));
	room.on("welcome", (w) => {
		if (w.resumed) $("resumes").textContent = String(++counters.resumes);
		present.clear();
		for (const p of w.presence) present.set(p.sub, p);
		renderPresence([...present.values()]);
		logLine(`welcome: session ${w.session.slice(0, 8)} resumed=${w.resumed} replayed=${w.replayed} home=${w.home}`);
	});
	room.on("message", (m) => {
		const li = document.createElement("li");
		li.dataset.seq = String(m.seq);
		const seq = Object.assign(document.createElement("span"), { className: "seq", textContent: `#${m.seq}` });
		const from = Object.assign(document.createElement("span"), { className: "from", textContent: m.from });
		const text = document.createTextNode(typeof m.data?.text === "string" ? m.data.text : JSON.stringify(m.data));
		li.append(seq, from, text);
		$("messages").append(li);
		$("messages").scrollTop = $("messages").scrollHeight;
		$("last-seq").textContent = String(room.lastSeq);
	});
	room.on("presence", (p) => {
		if (p.event === "join") present.set(p.sub, p);
		else present.delete(p.sub);
		renderPresence([...present.values()]);
	});
	room.on("close", ({ code, willReconnect }) => {
		$("last-close").textContent = `${code} ${CLOSE_MEANINGS[code] ?? ""}`;
		logLine(`close ${code} (${CLOSE_MEANINGS[code] ?? "unknown"})${willReconnect ? ", resuming" : ""}`);
	});
	room.on("gap", () => {
		$("gaps").textContent = String(++counters.gaps);
		logLine("gap: some history is no longer kept");
	});
	room.on("error", (e) => logLine(`error ${e.code}: ${e.message}`));
}

$("join").addEventListener("submit", (e) => {
	e.preventDefault();
	$("join").hidden = true;
	$("app").hidden = false;
	join($("name").value.trim(), $("room").value.trim());
});

$("send").addEventListener("submit", async (e) => {
	e.preventDefault();
	const text = $("text").value;
	$("text").value = "";
	try {
		const { seq } = await room.publish({ text });
		logLine(`acked as #${seq}`);
	} catch (err) {
		logLine(`publish failed: ${err.message}`);
	}
});

$("drain").addEventListener("click", async () => {
	const res = await fetch(`/dev/rooms/${encodeURIComponent($("room").value.trim())}/drain`, { method: "POST" });
	logLine(`drain: ${res.ok ? JSON.stringify(await res.json()) : res.status}`);
});

$("drop").addEventListener("click", () => room?.reconnect());

$("leave").addEventListener("click", () => {
	room?.close();
	logLine("left the room");
});
