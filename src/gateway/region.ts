import { type Config, isRegion, type Region } from "../core/config.ts";

const EASTERN_EUROPE = new Set([
	"PL",
	"CZ",
	"SK",
	"HU",
	"RO",
	"BG",
	"UA",
	"BY",
	"MD",
	"LT",
	"LV",
	"EE",
	"RU",
	"GR",
	"RS",
	"HR",
	"SI",
	"BA",
	"MK",
	"AL",
	"ME",
	"FI",
]);
const MIDDLE_EAST = new Set(["AE", "SA", "QA", "BH", "KW", "OM", "IL", "JO", "LB", "IQ", "IR", "TR", "YE", "SY"]);

/** Maps `request.cf` (continent, country, longitude) to a Durable Object location hint. */
export function regionFromCf(cf: IncomingRequestCfProperties | undefined): Region | null {
	if (cf === undefined) return null;
	const country = typeof cf.country === "string" ? cf.country : "";
	const longitude = Number(cf.longitude);
	switch (cf.continent) {
		case "NA":
			return Number.isFinite(longitude) && longitude < -100 ? "wnam" : "enam";
		case "SA":
			return "sam";
		case "EU":
			return EASTERN_EUROPE.has(country) ? "eeur" : "weur";
		case "AF":
			return "afr";
		case "OC":
			return "oc";
		case "AS":
			return MIDDLE_EAST.has(country) ? "me" : "apac";
		default:
			return null;
	}
}

/** The region this gateway reports as its own: BATON_REGION, else `request.cf`, else the first configured. */
export function gatewayRegion(request: Request, config: Config): Region {
	if (config.region !== null) return config.region;
	const fromCf = regionFromCf(request.cf as IncomingRequestCfProperties | undefined);
	if (fromCf !== null) return fromCf;
	return config.regions[0] ?? "wnam";
}

export { isRegion };
