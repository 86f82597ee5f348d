import { adminOperations } from "./admin-operations";
import type { ApiOperations } from "./api-operation";
import { v1Operations } from "./v1-operations";

/** Every documented /v1 and /admin operation; a route module that adds a route adds its entry here. */
export const apiOperations: ApiOperations = { ...v1Operations, ...adminOperations };
