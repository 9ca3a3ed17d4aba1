import type { Config } from "../core/config.ts";

/**
 * Origin allow-list (CONTRACT.md §9): requests without `Origin` (non-browser clients) pass; with
 * one, it must match an entry exactly unless the list is `*`.
 */
export function originAllowed(request: Request, config: Config): boolean {
	const origin = request.headers.get("Origin");
	if (origin === null || config.allowedOrigins === "*") return true;
	return config.allowedOrigins.has(origin);
}
