// A tiny app as a user would write it after `npm i baton-rooms`: one room class with a hook, the
// gateway, the anchor and the registry. test/e2e/package.test.ts copies it into an empty project
// that installed the packed tarball, typechecks it there and runs it with wrangler.
import { BatonRoom, createGateway, RoomAnchor, RoomRegistry } from "baton-rooms/server";

export class ChatRoom extends BatonRoom<Env> {
	override async onPublish(msg: { data: unknown }) {
		const text = typeof msg.data === "object" && msg.data !== null ? (msg.data as { text?: unknown }).text : undefined;
		if (typeof text !== "string") return { reject: { code: "invalid", message: "text required" } };
		return { data: { text: text.toUpperCase() } };
	}
}

export { RoomAnchor, RoomRegistry };
export default createGateway({ room: "ROOMS", anchor: "ANCHORS", registry: "REGISTRY" });
