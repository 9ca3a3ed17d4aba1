/**
 * The baton version, reported by `/healthz`. A literal rather than an import of package.json: the
 * published package's build keeps its own layout, where no package.json sits at that path.
 * test/unit/version.test.ts keeps it equal to package.json's version.
 */
export const VERSION = "0.2.0";
