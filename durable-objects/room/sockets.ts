/**
 * The room's hibernatable sockets (`ctx.acceptWebSocket`), tagged by sub so the runtime finds a
 * sub's sockets — and among them a session's — without reading every attachment. One tag per
 * socket: a session's sockets are all its sub's (sockets accepted by older code also carry a
 * session tag; nothing reads it any more).
 */
import type { AppErrorFrame, ServerFrame } from "../../protocol/messages.ts";
import { type Attachment, liveAttachment, readAttachment } from "./attachment.ts";
import { socketTag } from "./socket-tag.ts";

/** A sub's tag; a long sub's is its hash (socket-tag.ts), so any valid sub can connect. */
export const subTag = (sub: string): string => socketTag("s", sub);

export class RoomSockets {
	/**
	 * Sockets the room serves (open, not closed by the room or its peer), counted once per wake
	 * and then kept by `accept` and `ended`: connects and closes read it instead of every attachment.
	 */
	#live: number | null = null;

	constructor(private readonly ctx: DurableObjectState) {}

	/** Takes over the server end of a new connection, tagged for its sub. */
	accept(server: WebSocket, sub: string): void {
		this.liveCount();
		this.ctx.acceptWebSocket(server, [subTag(sub)]);
		if (this.#live !== null) this.#live++;
	}

	/** A served socket ended (the one close path marked it): it no longer counts. */
	ended(): void {
		if (this.#live !== null && this.#live > 0) this.#live--;
	}

	/** How many sockets the room serves. */
	liveCount(): number {
		this.#live ??= this.live().length;
		return this.#live;
	}

	/** Open sockets the room still serves, with their attachments. */
	live(tag?: string): Array<[WebSocket, Attachment]> {
		const out: Array<[WebSocket, Attachment]> = [];
		for (const ws of this.ctx.getWebSockets(tag)) {
			const a = liveAttachment(ws);
			if (a !== null) out.push([ws, a]);
		}
		return out;
	}

	/** Open sockets the room still serves of one session (of `sub`). */
	ofSession(sub: string, session: string): Array<[WebSocket, Attachment]> {
		return this.live(subTag(sub)).filter(([, a]) => a.session === session);
	}

	/**
	 * Every open socket in one pass: those the room serves, with their attachments, and those
	 * whose attachment cannot be read (to be closed with 1012).
	 */
	scan(): { live: Array<[WebSocket, Attachment]>; unreadable: WebSocket[] } {
		const live: Array<[WebSocket, Attachment]> = [];
		const unreadable: WebSocket[] = [];
		for (const ws of this.ctx.getWebSockets()) {
			if (ws.readyState !== WebSocket.OPEN) continue;
			const a = readAttachment(ws);
			if (a === null) unreadable.push(ws);
			else if (a.closedWith === undefined) live.push([ws, a]);
		}
		// A full pass counts exactly: the count is refreshed for free.
		this.#live = live.length;
		return { live, unreadable };
	}

	send(ws: WebSocket, frame: ServerFrame | AppErrorFrame): void {
		try {
			ws.send(JSON.stringify(frame));
		} catch {
			// The peer is gone; its close event cleans up.
		}
	}

	/**
	 * Sends one frame that is not a `message` (presence) to every open socket but `except`. A
	 * socket in the middle of a paged replay gets it once its replay is done (replay.ts).
	 */
	broadcast(frame: ServerFrame, except?: WebSocket): void {
		const text = JSON.stringify(frame);
		for (const ws of this.ctx.getWebSockets()) {
			if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
			const held = this.#replaying.get(ws);
			if (held !== undefined) held.push(text);
			else this.sendText(ws, text);
		}
	}

	/**
	 * Sends one `message` frame, already serialized, to every open socket. Hot path (once per
	 * message, per socket): it checks readyState only — a socket the room closed is already CLOSING
	 * — and never deserializes attachments, which the fan-out profile showed to be a third of the
	 * room's JS time. A socket in the middle of a paged replay is skipped: its replay reads the log
	 * up to the head, this message included, so it gets it in order, once.
	 */
	broadcastMessage(text: string): void {
		const replaying = this.#replaying.size > 0;
		for (const ws of this.ctx.getWebSockets()) {
			if (ws.readyState !== WebSocket.OPEN || (replaying && this.#replaying.has(ws))) continue;
			try {
				ws.send(text);
			} catch {
				// The peer is gone; its close event cleans up.
			}
		}
	}

	/** Sends a frame already serialized. */
	sendText(ws: WebSocket, text: string): void {
		try {
			ws.send(text);
		} catch {
			// The peer is gone; its close event cleans up.
		}
	}

	/**
	 * Sockets in the middle of a paged replay, with the non-message frames broadcast meanwhile.
	 * In memory only, and may be: a replay in progress keeps a timer pending, and a Durable Object
	 * with a pending timer is not hibernated, so the map cannot be lost while it matters.
	 */
	readonly #replaying = new Map<WebSocket, string[]>();

	/** From now on `ws` gets no live `message` frames (its replay sends them). */
	beginReplay(ws: WebSocket): void {
		this.#replaying.set(ws, []);
	}

	/** `ws`'s replay reached the head: the frames held for it go out, and it is live from now on. */
	endReplay(ws: WebSocket): void {
		const held = this.#replaying.get(ws);
		this.#replaying.delete(ws);
		for (const text of held ?? []) this.sendText(ws, text);
	}

	/** `ws` is gone: its replay, if any, is dropped with what was held for it. */
	forgetReplay(ws: WebSocket): void {
		this.#replaying.delete(ws);
	}
}
