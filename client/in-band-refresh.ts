import { type AuthOkFrame, ErrorCode, type ErrorFrame, MessageType } from "../protocol/index.ts";
import { ClientErrorCode } from "./errors.ts";
import { refreshDelay } from "./refresh.ts";
import type { TokenCache } from "./tokens.ts";
import type { LogLevel, RoomErrorEvent } from "./types.ts";

/** The part of a link the refresh reads and writes. */
export interface RefreshableLink {
	/** The token the connection holds on this socket. */
	token: string;
	/** A token sent in an `auth` frame and not yet answered; null when none is pending. */
	authPending: string | null;
}

/** What the refresh needs from the connection. */
export interface RefreshHost<L extends RefreshableLink> {
	readonly tokens: TokenCache;
	/** Arms (replacing) the link-scoped "refresh" timer; cleared with the link's other timers. */
	setTimer(ms: number, fn: () => void): void;
	/** `link` is still the connection's current socket. */
	isCurrent(link: L): boolean;
	/** Sends a text frame on `link`; false when it could not. */
	send(link: L, text: string): boolean;
	/** The room accepted `token` for `link`. */
	adopted(link: L, token: string): void;
	error(event: RoomErrorEvent): void;
	log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

/**
 * In-band token refresh (CONTRACT.md §11): with a token function, fetch the next token ahead of
 * `exp` on the {@link refreshDelay} schedule, send it as `{"type":"auth"}`, adopt it on
 * `auth_ok`. A refusal is surfaced and not retried in band: at the old token's expiry the room
 * closes with 4001 and the connection's reconnect path fetches a fresh token.
 */
export class InBandRefresh<L extends RefreshableLink> {
	readonly #host: RefreshHost<L>;

	constructor(host: RefreshHost<L>) {
		this.#host = host;
	}

	/** Arms the refresh of `link`'s token expiring at `exp` (seconds); nothing for a string token or an unknown `exp`. */
	schedule(link: L, exp: number | undefined): void {
		const host = this.#host;
		if (!host.tokens.refreshable || exp === undefined || !host.isCurrent(link)) return;
		const delay = refreshDelay(exp, Date.now(), host.tokens.fetchedAt);
		if (delay === null) {
			host.log("debug", "token expires before it may be refreshed in band; the 4001 path will renew it", { exp });
			return;
		}
		host.setTimer(delay, () => void this.#refresh(link, exp));
	}

	/** An `auth_ok` arrived on `link`. */
	accepted(link: L, frame: AuthOkFrame): void {
		const token = link.authPending;
		if (token === null) return;
		link.authPending = null;
		link.token = token;
		this.#host.tokens.adopt(token);
		this.#host.adopted(link, token);
		this.#host.log("debug", "token refreshed in band", { exp: frame.exp });
		this.schedule(link, frame.exp);
	}

	/**
	 * An `error` frame arrived on `link`; true when it was the refusal of a pending refresh (the
	 * room kept the old token), which this handles.
	 */
	refused(link: L, frame: ErrorFrame): boolean {
		if (frame.id !== undefined || frame.code !== ErrorCode.Unauthorized || link.authPending === null) return false;
		link.authPending = null;
		this.#host.tokens.invalidate();
		const message = `the room refused the refreshed token (${frame.message}); the connection keeps its current one until it expires`;
		this.#host.log("warn", message);
		this.#host.error({ code: frame.code, message });
		return true;
	}

	async #refresh(link: L, exp: number): Promise<void> {
		const host = this.#host;
		if (!host.isCurrent(link)) return;
		let token: string;
		try {
			token = await host.tokens.fetch();
		} catch (error) {
			if (!host.isCurrent(link)) return;
			const message = `the token function failed during a refresh: ${error instanceof Error ? error.message : String(error)}`;
			host.log("warn", message);
			host.error({ code: ClientErrorCode.TokenUnavailable, message });
			// Try again on the schedule while the current token lasts; 4001 remains the fallback.
			this.schedule(link, exp);
			return;
		}
		// Replaced meanwhile: the new socket was dialed with a token of its own.
		if (!host.isCurrent(link)) return;
		if (token === link.token) {
			// The function handed back the same token: nothing to send; ask again later.
			this.schedule(link, exp);
			return;
		}
		if (!host.send(link, JSON.stringify({ type: MessageType.Auth, token }))) return;
		link.authPending = token;
		host.log("debug", "token refresh sent");
	}
}
