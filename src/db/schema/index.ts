export * from "./instance";
export * from "./accounts";
export * from "./api-keys";
export * from "./usage-events";
export * from "./audit-log";
