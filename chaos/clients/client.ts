/** The face every chaos client (SDK or raw) shows the run: facts for the checker and the recovery clock. */
import type { ClientRecord } from "./records.ts";

export interface ChaosClient {
	readonly record: ClientRecord;
	/** Not left and not stopped: it is expected to be connected and caught up at rest. */
	active(): boolean;
	/** A welcomed socket is up. */
	isOpen(): boolean;
	/** Its network is down (an offline fault). */
	offline(): boolean;
	/** When its latest `welcome` arrived (0 before any). */
	lastWelcomeAt(): number;
	/** The highest seq delivered to it in order. */
	lastSeq(): number;
	/** `ws://host:port` of the gateway its current socket goes through. */
	gatewayBase(): string | null;
	/** Stops issuing publishes (those issued stay pending until they settle). */
	stopPublishing(): void;
	/** Closes it for good (end of run, or leaving). */
	shutdown(): Promise<void>;
}
