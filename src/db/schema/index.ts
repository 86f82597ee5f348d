export * from "./instance";
