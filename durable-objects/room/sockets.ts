/**
 * The room's hibernatable sockets (`ctx.acceptWebSocket`), tagged by sub and session so the
 * runtime finds a sub's or a session's sockets without reading every attachment.
 */
import type { AppErrorFrame, ServerFrame } from "../../protocol/messages.ts";
import { type Attachment, liveAttachment, readAttachment } from "./attachment.ts";
import { socketTag } from "./socket-tag.ts";

/** A sub's tag; a long sub's is its hash (socket-tag.ts), so any valid sub can connect. */
export const subTag = (sub: string): string => socketTag("s", sub);
export const sessionTag = (session: string): string => socketTag("x", session);

export class RoomSockets {
	constructor(private readonly ctx: DurableObjectState) {}

	/** Takes over the server end of a new connection, tagged for its sub and session. */
	accept(server: WebSocket, sub: string, session: string): void {
		this.ctx.acceptWebSocket(server, [subTag(sub), sessionTag(session)]);
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
		return { live, unreadable };
	}

	/**
	 * Open sockets (with `tag`), counted from readyState alone: the connect path runs this for
	 * every upgrade, and reading every attachment there made a connect cost O(room size).
	 */
	openCount(tag?: string): number {
		let open = 0;
		for (const ws of this.ctx.getWebSockets(tag)) if (ws.readyState === WebSocket.OPEN) open++;
		return open;
	}

	send(ws: WebSocket, frame: ServerFrame | AppErrorFrame): void {
		try {
			ws.send(JSON.stringify(frame));
		} catch {
			// The peer is gone; its close event cleans up.
		}
	}

	/** Sends one frame to every open socket (but `except`). */
	broadcast(frame: ServerFrame, except?: WebSocket): void {
		this.broadcastText(JSON.stringify(frame), except);
	}

	/**
	 * Sends one frame, already serialized, to every open socket. Hot path (once per message, per
	 * socket): it checks readyState only — a socket the room closed is already CLOSING — and never
	 * deserializes attachments, which the fan-out profile showed to be a third of the room's JS time.
	 */
	broadcastText(text: string, except?: WebSocket): void {
		for (const ws of this.ctx.getWebSockets()) {
			if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
			try {
				ws.send(text);
			} catch {
				// As above.
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
}
