import { ErrorCode, isValidClientId, MessageType, type PublishFrame } from "../protocol/index.ts";
import { BatonError } from "./errors.ts";

/**
 * Serializes a `publish` frame once, at `publish()` time, so every resend is byte-identical.
 * Input the server would refuse is refused here, without a round trip.
 */
export function encodePublish(id: string, data: unknown): { ok: true; frame: string } | { ok: false; error: BatonError } {
	if (!isValidClientId(id)) return { ok: false, error: new BatonError(ErrorCode.BadRequest, "a publish id has 1-64 characters") };
	if (data === undefined) return { ok: false, error: new BatonError(ErrorCode.BadMessage, "publish needs data") };
	const publish: PublishFrame = { type: MessageType.Publish, id, data };
	try {
		return { ok: true, frame: JSON.stringify(publish) };
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error);
		return { ok: false, error: new BatonError(ErrorCode.BadMessage, `data is not serializable: ${reason}`) };
	}
}
