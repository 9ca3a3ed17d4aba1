// Shared by `npm run dev:regions` and the multi-region e2e harness: the wrangler argument lists
// for the rooms process and one gateway per region.
import { join } from "node:path";

export const REGION_PORTS = { wnam: 8787, weur: 8788, apac: 8789 };
export const ROOMS_PORT = 8790;

export function roomsArgs(root, { port, inspectorPort, persistTo, vars = {} }) {
	return [...devArgs(join(root, "regions/wrangler.rooms.toml"), port, inspectorPort), "--persist-to", persistTo, ...varArgs({ BATON_REGION: "wnam", ...vars })];
}

export function gatewayArgs(root, region, { port, inspectorPort, vars = {}, suffix = "" }) {
	return [
		...devArgs(join(root, "regions/wrangler.gateway.toml"), port, inspectorPort),
		"--name",
		`baton-gateway-${region}${suffix}`,
		...varArgs({ ...vars, BATON_REGION: region }),
	];
}

/** `wrangler dev` on loopback with a fixed port and inspector port, no interactive hotkeys. */
function devArgs(config, port, inspectorPort) {
	return [
		"dev",
		"--config",
		config,
		"--ip",
		"127.0.0.1",
		"--port",
		String(port),
		"--inspector-port",
		String(inspectorPort),
		"--show-interactive-dev-session=false",
	];
}

function varArgs(vars) {
	return Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
}
