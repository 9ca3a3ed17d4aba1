import { afterEach, describe, expect, it } from "vitest";
import { BindingName, bindingName, configureBindings, namespaceOf, routingBindings } from "../../src/core/bindings.ts";

const namespace = (label: string) => ({ label, idFromName: () => label, get: () => label });

describe("binding names (createGateway({ room, anchor, registry }))", () => {
	afterEach(() => configureBindings({}));

	it("defaults to ROOMS, ANCHORS and REGISTRY", () => {
		expect([bindingName(BindingName.Rooms), bindingName(BindingName.Anchors), bindingName(BindingName.Registry)]).toEqual(["ROOMS", "ANCHORS", "REGISTRY"]);
	});

	it("reads the namespaces under the names the app chose", () => {
		configureBindings({ room: "CHAT", anchor: "CHAT_ANCHORS", registry: "CHAT_REGISTRY" });
		const env = { CHAT: namespace("chat"), CHAT_ANCHORS: namespace("anchors"), CHAT_REGISTRY: namespace("registry"), ROOMS: namespace("wrong") };
		expect(routingBindings(env)).toEqual({ ROOMS: env.CHAT, ANCHORS: env.CHAT_ANCHORS });
		expect(namespaceOf(env, BindingName.Registry)).toBe(env.CHAT_REGISTRY);
	});

	it("names the missing binding in its error", () => {
		configureBindings({ room: "CHAT" });
		expect(() => namespaceOf({ ROOMS: namespace("x") }, BindingName.Rooms)).toThrow(/binding CHAT/);
	});
});
