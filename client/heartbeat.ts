/** The slice of `Timers` the heartbeat uses. */
export interface HeartbeatTimers {
	set(name: "ping" | "deadline", ms: number, fn: () => void): void;
}

/** What the heartbeat needs from the connection. */
export interface HeartbeatHooks {
	/** Sends the literal `ping` text frame. */
	ping(): void;
	/** When the last frame of any kind arrived, in `Date.now()` ms. */
	lastFrameAt(): number;
	/** Nothing arrived for `timeout` ms: the socket is dead. */
	dead(): void;
}

/**
 * Pings at once and then every `interval` ms (the runtime answers `pong` without waking a
 * hibernating room) and calls `dead()` once nothing at all has arrived for `timeout` ms — a
 * half-open TCP connection otherwise looks open forever. A zero interval or timeout turns that
 * half off. The timers live under "ping" and "deadline" in `timers`, so clearing those stops the
 * heartbeat. The first ping is not for liveness: the local runtime holds the TCP connection of a
 * socket that never sent a frame for ~10 s after the room closes it, so browsers and Node's own
 * WebSocket would see the close that late (docs/protocol.md §16).
 */
export function startHeartbeat(timers: HeartbeatTimers, heartbeat: { interval: number; timeout: number }, hooks: HeartbeatHooks): void {
	const { interval, timeout } = heartbeat;
	if (interval > 0) {
		const ping = (): void => {
			hooks.ping();
			timers.set("ping", interval, ping);
		};
		ping();
	}
	if (timeout > 0) {
		// Re-arming on every frame would churn a timer per message; checking when it fires is enough.
		const check = (): void => {
			const silent = Date.now() - hooks.lastFrameAt();
			if (silent >= timeout) hooks.dead();
			else timers.set("deadline", timeout - silent, check);
		};
		timers.set("deadline", timeout, check);
	}
}
