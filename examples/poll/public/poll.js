// The poll page, on the baton client SDK (/baton-client.js): vote with a publish, see every
// vote live with the tally the room counted, and the results the server posts.
import { connect } from "/baton-client.js";

const $ = (id) => document.getElementById(id);
const tokenEndpoint = document.querySelector('meta[name="baton-token-endpoint"]')?.content || "/dev/token";

/** The newest tally: votes only add up, so the largest total is the latest count. */
let tally = null;
const options = [];
let me = "";

async function fetchToken(name, room) {
	const url = new URL(tokenEndpoint, location.href);
	for (const [k, v] of Object.entries({ sub: name, name, room })) url.searchParams.set(k, v);
	const res = await fetch(url, { credentials: "same-origin" });
	if (res.status === 404) $("notice").hidden = false;
	if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
	return (await res.json()).token;
}

function renderTally(next) {
	if (next === undefined || (tally !== null && next.total < tally.total)) return;
	tally = next;
	$("total").textContent = String(tally.total);
	for (const option of Object.keys(tally.counts)) {
		if (!options.includes(option)) addOption(option);
		const row = $(`option-${option}`);
		const n = tally.counts[option];
		row.querySelector(".count").textContent = String(n);
		row.querySelector(".bar span").style.width = `${tally.total === 0 ? 0 : (100 * n) / tally.total}%`;
	}
}

function addOption(option) {
	options.push(option);
	const row = document.createElement("div");
	row.className = "option";
	row.id = `option-${option}`;
	const button = Object.assign(document.createElement("button"), { type: "button", textContent: option });
	button.dataset.option = option;
	const bar = document.createElement("div");
	bar.className = "bar";
	bar.append(document.createElement("span"));
	row.append(button, bar, Object.assign(document.createElement("span"), { className: "count", textContent: "0" }));
	$("options").append(row);
}

function showMine(option) {
	for (const row of document.querySelectorAll(".option")) row.classList.toggle("mine", row.id === `option-${option}`);
	$("you").textContent = `You voted ${option}. Votes are final.`;
	$("you").classList.remove("refused");
}

function onMessage(m) {
	const data = m.data;
	if (data?.type === "vote") {
		renderTally(data.tally);
		if (m.from === me) showMine(data.option);
	} else if (data?.type === "results") {
		renderTally(data.tally);
		$("question").textContent = data.question;
		const li = document.createElement("li");
		const counts = Object.entries(data.tally.counts).map(([o, n]) => `${o} ${n}`);
		li.textContent = `#${m.seq} ${new Date(m.ts).toLocaleTimeString()}: ${counts.join(" · ")} (${data.tally.total} votes)`;
		li.dataset.seq = String(m.seq);
		$("results").prepend(li);
	}
}

async function join(name, roomName) {
	me = name;
	const token = await fetchToken(name, roomName);
	$("join").hidden = true;
	$("app").hidden = false;
	$("results-url").textContent = `${location.origin}/api/polls/${roomName}/results`;
	const room = connect({ url: location.origin, room: roomName, token: async () => token });
	room.on("state", ({ to }) => {
		$("state").textContent = to;
	});
	room.on("message", onMessage);
	// Listening before the connection opens: a vote cast while the page still loads is queued by
	// the SDK and sent once the socket is open, never dropped.
	$("options").addEventListener("click", async (e) => {
		const option = e.target?.dataset?.option;
		if (option === undefined) return;
		try {
			await room.publish({ vote: option });
		} catch (err) {
			$("you").textContent = `Not counted: ${err.code} (${err.message})`;
			$("you").classList.add("refused");
		}
	});
	await room.ready;
	$("state").textContent = room.state;
	// The latest votes and results, for the tally and this voter's own vote.
	const page = await room.history({ before: room.lastSeq + 1, limit: 100 });
	for (const m of page.messages) onMessage(m);
}

// The question and its options come from the Worker (src/poll.ts), the one place they live.
const poll = fetch("/api/poll").then((res) => res.json());
poll.then(
	(p) => {
		$("question").textContent = p.question;
		for (const option of p.options) addOption(option);
	},
	(err) => {
		$("join-note").textContent = `Could not load the poll: ${err.message}`;
	},
);

$("join").addEventListener("submit", (e) => {
	e.preventDefault();
	$("join-note").textContent = "";
	poll
		.then(() => join($("name").value.trim(), $("room").value.trim()))
		.catch((err) => {
			$("join").hidden = false;
			$("app").hidden = true;
			$("join-note").textContent = `Could not join: ${err.message}`;
		});
});
