import type { Config } from "./schema";

export interface LiveConfig {
  /**
   * The running config as the services hold it: every read of `view.section.key` returns the
   * value of the latest replace(), so a service that reads its settings when it uses them
   * (admission's limits, pricing, the retention windows) follows a reload without knowing of it.
   * A value read once and kept (the port, the data dir) stays what it was: those need a restart.
   */
  readonly view: Readonly<Config>;
  current(): Readonly<Config>;
  replace(next: Readonly<Config>): void;
}

/** Sections are live objects; their values (arrays included) are the current config's, frozen. */
export function createLiveConfig(initial: Readonly<Config>): LiveConfig {
  let current = initial;
  const sections = new Map<PropertyKey, object>();

  const sectionView = (name: PropertyKey): object =>
    sections.get(name) ??
    sections.set(name, liveObject(() => (current as Record<PropertyKey, unknown>)[name] as object)).get(name)!;

  const view = liveObject(() => current, (name, value) => (isPlainObject(value) ? sectionView(name) : value)) as Readonly<Config>;
  return {
    view,
    current: () => current,
    replace(next) {
      current = next;
    },
  };
}

function isPlainObject(value: unknown): value is object {
  return value != null && typeof value === "object" && !Array.isArray(value);
}

/** A read-only object whose properties are those of `source()` at each read. */
function liveObject(source: () => object, map: (key: PropertyKey, value: unknown) => unknown = (_key, value) => value): object {
  const read = (key: PropertyKey) => map(key, Reflect.get(source(), key));
  return new Proxy(
    {},
    {
      get: (_target, key) => read(key),
      has: (_target, key) => Reflect.has(source(), key),
      ownKeys: () => Reflect.ownKeys(source()),
      // Reported configurable: the empty target holds none of them, and a proxy may not claim otherwise.
      getOwnPropertyDescriptor: (_target, key) =>
        Reflect.getOwnPropertyDescriptor(source(), key) == null ? undefined : { value: read(key), writable: false, enumerable: true, configurable: true },
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
    },
  );
}
