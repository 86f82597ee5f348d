import packageJson from "../package.json" with { type: "json" };

/** Bundled at build time, so the binary knows its version without a package.json beside it. */
export const ENCLAVE_VERSION: string = packageJson.version;
