/**
 * The chat's room: baton's room plus one rule, checked on every publish whatever its source
 * (socket, HTTP, the app's own `roomClient`): only `{ text }`, trimmed, 1–500 characters.
 */
import { BatonRoom, type PublishDecision, type PublishingMessage } from "baton-rooms/server";
import { readChatMessage } from "./chat-message.ts";

export class ChatRoom extends BatonRoom<Env> {
	override onPublish(msg: PublishingMessage): PublishDecision {
		const check = readChatMessage(msg.data);
		// A rejection reaches the publisher only: an error frame with this code (HTTP: 422).
		if (!check.ok) return { reject: { code: check.code, message: check.message } };
		// What is stored and broadcast: the trimmed text, nothing else the client put in.
		return { data: check.message };
	}
}
