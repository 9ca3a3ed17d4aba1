/**
 * The page of test/e2e/react-hook.test.ts: `useRoom` under <StrictMode>, bundled by esbuild in
 * the test (development React, so StrictMode really mounts, unmounts and mounts again). It reads
 * its connection from `window.__BATON__` and exposes what the test checks as DOM and as
 * `window.__mounts` (effect runs of the component: 2 under StrictMode).
 */
import { createElement as h, StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { useRoom } from "../../../react/index.ts";

interface PageConfig {
	url: string;
	room: string;
	token: string;
}

interface Chat {
	text: string;
}

declare global {
	interface Window {
		__BATON__: PageConfig;
		__mounts: number;
	}
}

function ChatRoom({ config }: { config: PageConfig }) {
	const { state, messages, presence, presenceCount, publish } = useRoom<Chat>({ url: config.url, room: config.room, token: config.token });
	const [text, setText] = useState("");
	useEffect(() => {
		window.__mounts = (window.__mounts ?? 0) + 1;
	}, []);
	return h(
		"main",
		{ style: { fontFamily: "system-ui, sans-serif", maxWidth: "40rem", margin: "1rem auto" } },
		h("h1", null, `useRoom · ${config.room}`),
		h("p", null, "state: ", h("strong", { id: "state", "data-state": state }, state), " · here: ", h("strong", { id: "count" }, String(presenceCount))),
		h(
			"ul",
			{ id: "presence" },
			presence.map((p) => h("li", { key: p.sub, "data-sub": p.sub }, p.name)),
		),
		h(
			"ol",
			{ id: "messages" },
			messages.map((m) => h("li", { key: m.seq, "data-seq": m.seq }, `${m.from}: ${m.data.text}`)),
		),
		h(
			"form",
			{
				id: "send",
				onSubmit: (event: { preventDefault(): void }) => {
					event.preventDefault();
					void publish({ text });
					setText("");
				},
			},
			h("input", { id: "text", value: text, onChange: (event: { target: { value: string } }) => setText(event.target.value) }),
			h("button", { type: "submit" }, "Send"),
		),
	);
}

const root = document.getElementById("root");
if (root === null) throw new Error("no #root");
createRoot(root).render(h(StrictMode, null, h(ChatRoom, { config: window.__BATON__ })));
