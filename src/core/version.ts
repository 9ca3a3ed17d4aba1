import pkg from "../../package.json" with { type: "json" };

/** The deployed baton version, reported by `/healthz`. */
export const VERSION: string = pkg.version;
