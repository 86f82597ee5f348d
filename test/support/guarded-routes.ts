import type { Config } from "../../src/config/schema";
import type { Store } from "../../src/db/client";
import { composeApi, type ApiDeps } from "../../src/compose/compose-api";
import { composeServices } from "../../src/compose/compose-services";
import { sqliteConfiguredStore } from "../../src/store/open-configured-store";

/** The services and the API over them, composed as `enclave serve` composes them, for in-process tests and benches. */
export function guardedRoutes(deps: Omit<ApiDeps, "services"> & { config: Readonly<Config>; store: Store }) {
  const services = composeServices({ config: deps.config, store: sqliteConfiguredStore(deps.store), logger: deps.logger, now: deps.now });
  const api = composeApi({ ...deps, services });
  return { ...services, ...api };
}
