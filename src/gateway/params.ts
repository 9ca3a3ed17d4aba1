/** Strict parsing of numeric query parameters: digits only, no signs, no fractions. */
export function parseNonNegativeInt(raw: string | null): number | null | "invalid" {
	if (raw === null) return null;
	if (!/^\d{1,15}$/.test(raw)) return "invalid";
	return Number(raw);
}
