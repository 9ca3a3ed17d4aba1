/**
 * `baton-rooms/react`: a React hook over the client SDK. React is an optional peer dependency of
 * the package: only this entry imports it.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import {
	BatonError,
	ClientErrorCode,
	type ConnectOptions,
	connect,
	type MessageFrame,
	type PresenceEntry,
	type PublishOptions,
	type PublishResult,
	type Room,
	type RoomState,
} from "../client/index.ts";

/** Default for {@link UseRoomOptions.maxMessages}. */
export const DEFAULT_MAX_MESSAGES = 500;

/** Options of {@link useRoom}: every option of `connect()`, plus two of the hook's own. */
export interface UseRoomOptions extends ConnectOptions {
	/** Most messages kept in `messages`; older ones are dropped from the array (not from the room). Default 500. */
	maxMessages?: number;
	/** False keeps the hook disconnected (e.g. until the user picked a room). Default true. */
	enabled?: boolean;
}

/** What {@link useRoom} returns; every field is React state, so a change re-renders. */
export interface UseRoomResult<T> {
	/** The connection's state; `closed` while disabled. */
	state: RoomState;
	/** Messages delivered since this connection started, oldest first, at most `maxMessages`. */
	messages: readonly MessageFrame<T>[];
	/** Who is in the room (a sample in count mode, see `room.presenceTruncated`). */
	presence: readonly PresenceEntry[];
	presenceCount: number;
	/** `room.publish()` of the current connection; rejects with `closed` while there is none. Stable across renders. */
	publish(data: T, options?: PublishOptions): Promise<PublishResult>;
	/** The connection itself, for everything else (`history()`, `pending`, events); null while disabled. */
	room: Room<T> | null;
}

/**
 * Connects to a room while the component is mounted, and closes the connection (1000, a goodbye)
 * when it unmounts. Safe under `<StrictMode>`: its mount–unmount–mount closes the first
 * connection before it ever dials, so exactly one socket is opened. It reconnects only when
 * `url`, `endpoints`, `room`, a string `token` or `enabled` change; a token *function* and every
 * other option are read when a connection starts (the latest function is always the one called).
 *
 * @example
 * import { useRoom } from "baton-rooms/react";
 *
 * function Chat({ token }: { token: () => Promise<string> }) {
 *   const { state, messages, presenceCount, publish } = useRoom<{ text: string }>({
 *     url: "https://rooms.example.com",
 *     room: "lobby",
 *     token,
 *   });
 *   return (
 *     <>
 *       <p>{state} · {presenceCount} here</p>
 *       <ul>{messages.map((m) => <li key={m.seq}>{m.from}: {m.data.text}</li>)}</ul>
 *       <button onClick={() => void publish({ text: "hi" })}>Say hi</button>
 *     </>
 *   );
 * }
 */
export function useRoom<T = unknown>(options: UseRoomOptions): UseRoomResult<T> {
	const latest = useRef(options);
	latest.current = options;
	const enabled = options.enabled ?? true;
	const [room, setRoom] = useState<Room<T> | null>(null);
	const [state, setState] = useState<RoomState>(enabled ? "connecting" : "closed");
	const [messages, setMessages] = useState<readonly MessageFrame<T>[]>([]);
	const [presence, setPresence] = useState<readonly PresenceEntry[]>([]);
	const [presenceCount, setPresenceCount] = useState(0);
	const roomRef = useRef<Room<T> | null>(null);

	// Only these start a new connection; everything else is read from `latest` when one starts.
	const { url, room: roomName } = options;
	const endpoints = (options.endpoints ?? []).join(" ");
	const stringToken = typeof options.token === "string" ? options.token : null;

	useEffect(() => {
		if (!enabled) {
			setState("closed");
			return;
		}
		const { maxMessages = DEFAULT_MAX_MESSAGES, enabled: _enabled, ...connectOptions } = latest.current;
		const current = connect<T>({
			...connectOptions,
			url,
			endpoints: endpoints === "" ? undefined : endpoints.split(" "),
			room: roomName,
			// A token function is looked up on every call, so a re-render's new closure is the one used.
			token:
				stringToken ??
				(() => {
					const token = latest.current.token;
					return typeof token === "string" ? token : token();
				}),
		});
		roomRef.current = current;
		setRoom(current);
		setState(current.state);
		setMessages([]);
		const syncPresence = () => {
			setPresence(current.presence);
			setPresenceCount(current.presenceCount);
		};
		syncPresence();
		const off = [
			current.on("state", ({ to }) => setState(to)),
			current.on("message", (message) =>
				setMessages((previous) => {
					const kept = previous.length >= maxMessages ? previous.slice(previous.length - maxMessages + 1) : previous.slice();
					kept.push(message);
					return kept;
				}),
			),
			current.on("welcome", syncPresence),
			current.on("presence", syncPresence),
			current.on("presence_state", syncPresence),
			current.on("presence_count", syncPresence),
		];
		return () => {
			for (const unsubscribe of off) unsubscribe();
			if (roomRef.current === current) roomRef.current = null;
			current.close();
		};
	}, [enabled, url, endpoints, roomName, stringToken]);

	const publish = useCallback((data: T, publishOptions?: PublishOptions): Promise<PublishResult> => {
		const current = roomRef.current;
		if (current === null) return Promise.reject(new BatonError(ClientErrorCode.Closed, "no connection: the hook is disabled or not mounted"));
		return current.publish(data, publishOptions);
	}, []);

	return { state, messages, presence, presenceCount, publish, room };
}
