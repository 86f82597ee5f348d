import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rateWindows } from "../../src/db/pg-schema";
import { createPgRateWindows } from "../../src/limits/pg-rate-windows";
import { createInProcessRateWindows, type RateWindows } from "../../src/limits/rate-windows";
import { eventually, pgLimitsStore } from "../support/pg-limits-store";
import { reachablePostgres } from "../support/pg-test-database";

const T = Date.parse("2030-03-01T12:00:00Z");
const serverUrl = await reachablePostgres();

interface Backend extends AsyncDisposable {
  windows: RateWindows;
  /** The same measure through another handle (another node), where the backend has one. */
  otherNode?: RateWindows;
  /** Buckets stored, where the backend stores them. */
  storedBuckets?: () => Promise<number>;
}

const backends: { name: string; open: () => Promise<Backend> }[] = [
  { name: "in process", open: async () => ({ windows: createInProcessRateWindows(), async [Symbol.asyncDispose]() {} }) },
  ...(serverUrl == null
    ? []
    : [
        {
          name: "postgres",
          open: async (): Promise<Backend> => {
            const store = await pgLimitsStore(serverUrl);
            const db = store.node();
            return {
              windows: createPgRateWindows(db, "requests"),
              otherNode: createPgRateWindows(store.node(), "requests"),
              storedBuckets: async () => (await db.select().from(rateWindows)).length,
              [Symbol.asyncDispose]: () => store[Symbol.asyncDispose](),
            };
          },
        },
      ]),
];

for (const { name, open } of backends)
  describe(`rate windows on ${name}`, () => {
    let backend: Backend;
    beforeEach(async () => {
      backend = await open();
    });
    afterEach(async () => {
      await backend[Symbol.asyncDispose]();
    });

    test("Should sum what was added in the last minute - and forget older amounts", async () => {
      const { windows } = backend;
      await windows.add("k", T, 10);
      await windows.add("k", T + 30_000, 5);
      await windows.add("other", T, 100);
      expect((await windows.read("k", T + 59_999)).used).toBe(15);
      expect((await windows.read("k", T + 61_000)).used).toBe(5);
      expect((await windows.read("k", T + 91_000)).used).toBe(0);
    });

    test("Should take up to the limit - then refuse without counting, and say when the oldest leaves (60 to 61 s after it came)", async () => {
      const { windows } = backend;
      for (const at of [T, T + 10_000, T + 20_000]) expect((await windows.take("k", at, 1, 3)).taken).toBe(true);
      const refused = await windows.take("k", T + 30_000, 1, 3);
      expect(refused.taken).toBe(false);
      expect(refused.reading.used).toBe(3);
      expect(refused.reading.msUntilBelow(3)).toBeWithin(30_000, 31_001);
      expect(refused.reading.msUntilBelow(1)).toBeWithin(50_000, 51_001);
      expect(refused.reading.msUntilBelow(4)).toBe(0);
      expect((await windows.read("k", T + 30_000)).used).toBe(3);
      expect((await windows.take("k", T + 61_000, 1, 3)).taken).toBe(true);
    });

    test.skipIf(name !== "postgres")("Should never take more than the limit across two nodes taking at once - and each sees the other's", async () => {
      const [a, b] = [backend.windows, backend.otherNode!];
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? a : b).take("k", T + (i % 3) * 1000, 1, 7)));
      expect(results.filter((result) => result.taken).length).toBe(7);
      expect((await a.read("k", T + 5_000)).used).toBe(7);
      await b.add("k", T + 5_000, 3);
      expect((await a.read("k", T + 5_000)).used).toBe(10);
    });
  
    test.skipIf(name !== "postgres")("Should delete a key's buckets once they left the window - on a later write of the key", async () => {
      const { windows } = backend;
      await windows.add("k", T, 1);
      await windows.add("k", T + 1_000, 1);
      expect(await backend.storedBuckets!()).toBe(2);
      await windows.add("k", T + 61_000, 1);
      await eventually(async () => (await backend.storedBuckets!()) === 2);
      expect((await windows.read("k", T + 61_000)).used).toBe(2);
    });
  });
