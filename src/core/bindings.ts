/**
 * The Worker bindings baton's objects reach each other through, read from an env whose type the
 * app owns (`BatonRoom<Env>` is generic in it): the core never names the Durable Object classes,
 * so the namespaces are typed by the caller.
 */
import { type ConfigEnv, ConfigName } from "./config.ts";

/**
 * The bindings baton's objects reach each other through, by their default names in the Worker's
 * env (wrangler.toml `[[durable_objects.bindings]]`). An app that binds them under other names
 * says so once, in `createGateway({ room, anchor, registry })` (or {@link configureBindings}).
 */
export const BindingName = {
	Rooms: "ROOMS",
	Anchors: "ANCHORS",
	Registry: "REGISTRY",
} as const;
export type BindingName = (typeof BindingName)[keyof typeof BindingName];

/** Binding names an app chose: `room`, `anchor`, `registry` as in `createGateway`'s options. */
export interface BindingNames {
	/** The namespace of the app's room class (default `ROOMS`). */
	room?: string;
	/** The namespace of `RoomAnchor` (default `ANCHORS`). */
	anchor?: string;
	/** The namespace of `RoomRegistry` (default `REGISTRY`). */
	registry?: string;
}

/**
 * Names in force in this isolate. Module state on purpose: `createGateway` runs at the top level of
 * the Worker's module, and that module is evaluated in every isolate of the Worker, the ones that
 * host its Durable Objects included, so the rooms and anchors read the same names the gateway got.
 */
const chosen = new Map<BindingName, string>();

/**
 * Sets the binding names for this Worker. `createGateway(options)` calls it; a Worker that exports
 * baton's Durable Objects without a gateway (a separate script bound with `script_name`) calls it
 * itself at module top level.
 *
 * @example
 * configureBindings({ room: "CHAT_ROOMS" });
 */
export function configureBindings(names: BindingNames): void {
	const set = (key: BindingName, value: string | undefined) => {
		if (value === undefined || value === key) chosen.delete(key);
		else chosen.set(key, value);
	};
	set(BindingName.Rooms, names.room);
	set(BindingName.Anchors, names.anchor);
	set(BindingName.Registry, names.registry);
}

/** The name under which `binding` is bound in this Worker. */
export function bindingName(binding: BindingName): string {
	return chosen.get(binding) ?? binding;
}

function isNamespace(value: unknown): value is { idFromName: unknown; get: unknown } {
	return typeof value === "object" && value !== null && "idFromName" in value && "get" in value;
}

/**
 * The Durable Object namespace bound as `name`, typed as the caller's class. Throws a readable
 * error when the binding is missing (a wrangler.toml without it cannot route any room).
 */
export function namespaceOf<T extends Rpc.DurableObjectBranded | undefined>(env: unknown, binding: BindingName): DurableObjectNamespace<T> {
	const name = bindingName(binding);
	const value: unknown = typeof env === "object" && env !== null ? Reflect.get(env, name) : undefined;
	if (!isNamespace(value)) throw new Error(`the Worker has no Durable Object binding ${name} (wrangler.toml [[durable_objects.bindings]])`);
	// The runtime cannot say which class a namespace serves; the caller names it.
	return value as unknown as DurableObjectNamespace<T>;
}

const views = new WeakMap<object, ConfigEnv>();

/** baton's configuration vars of an env of any type: its string values under {@link ConfigName}s. */
export function configEnv(env: unknown): ConfigEnv {
	if (typeof env !== "object" || env === null) return {};
	const hit = views.get(env);
	if (hit !== undefined) return hit;
	const vars: ConfigEnv = {};
	for (const name of Object.values(ConfigName)) {
		const value: unknown = Reflect.get(env, name);
		if (typeof value === "string") vars[name] = value;
	}
	views.set(env, vars);
	return vars;
}

/** The routing view of an env (core/routing.ts): the room and anchor namespaces under baton's own keys. */
export function routingBindings<R extends Rpc.DurableObjectBranded | undefined, A extends Rpc.DurableObjectBranded | undefined>(
	env: unknown,
): { ROOMS: DurableObjectNamespace<R>; ANCHORS: DurableObjectNamespace<A> } {
	return { ROOMS: namespaceOf<R>(env, BindingName.Rooms), ANCHORS: namespaceOf<A>(env, BindingName.Anchors) };
}
