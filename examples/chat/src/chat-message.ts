/**
 * What a chat message is: `{ text }`, trimmed, 1–500 characters. The one place the chat's rules
 * and its own error codes live; the room's `onPublish` applies them to every publish.
 */

/** Most characters (UTF-16 code units, as the page's `maxlength` counts) a message may hold. */
export const MAX_TEXT_LENGTH = 500;

/** The chat's own error codes (snake_case, as `onPublish` rejections must be). */
export const ChatError = {
	/** `data` is not an object with a string `text`. */
	TextRequired: "text_required",
	/** `text` is empty once trimmed. */
	EmptyMessage: "empty_message",
	/** `text` is longer than {@link MAX_TEXT_LENGTH} once trimmed. */
	MessageTooLong: "message_too_long",
} as const;
export type ChatError = (typeof ChatError)[keyof typeof ChatError];

/** A chat message as stored and broadcast. */
export interface ChatMessage {
	text: string;
}

/** The message to store, or why not. */
export type ChatMessageCheck = { ok: true; message: ChatMessage } | { ok: false; code: ChatError; message: string };

/** Checks what a client sent and gives back what to store: only `text`, trimmed. */
export function readChatMessage(data: unknown): ChatMessageCheck {
	const text: unknown = typeof data === "object" && data !== null ? Reflect.get(data, "text") : undefined;
	if (typeof text !== "string") return { ok: false, code: ChatError.TextRequired, message: "send {text: string}" };
	const trimmed = text.trim();
	if (trimmed === "") return { ok: false, code: ChatError.EmptyMessage, message: "the message is empty" };
	if (trimmed.length > MAX_TEXT_LENGTH) {
		return { ok: false, code: ChatError.MessageTooLong, message: `at most ${MAX_TEXT_LENGTH} characters (got ${trimmed.length})` };
	}
	return { ok: true, message: { text: trimmed } };
}
