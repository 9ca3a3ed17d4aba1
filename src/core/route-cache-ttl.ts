/** How long a gateway trusts a cached room route before asking the anchor again. */
export const ROUTE_CACHE_TTL_MS = 5_000;
