/**
 * The Worker bindings baton's objects reach each other through, read from an env whose type the
 * app owns (`BatonRoom<Env>` is generic in it): the core never names the Durable Object classes,
 * so the namespaces are typed by the caller.
 */
import { type ConfigEnv, ConfigName } from "./config.ts";

/** Binding names baton expects in the Worker's env (wrangler.toml `[[durable_objects.bindings]]`). */
export const BindingName = {
	Rooms: "ROOMS",
	Anchors: "ANCHORS",
	Registry: "REGISTRY",
} as const;
export type BindingName = (typeof BindingName)[keyof typeof BindingName];

function isNamespace(value: unknown): value is { idFromName: unknown; get: unknown } {
	return typeof value === "object" && value !== null && "idFromName" in value && "get" in value;
}

/**
 * The Durable Object namespace bound as `name`, typed as the caller's class. Throws a readable
 * error when the binding is missing (a wrangler.toml without it cannot route any room).
 */
export function namespaceOf<T extends Rpc.DurableObjectBranded | undefined>(env: unknown, name: BindingName): DurableObjectNamespace<T> {
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
