import { describe, expect, test } from "bun:test";
import { f16Bits } from "../../../src/forge/f16-bits";
import { SeededRandom } from "../../../src/forge/seeded-random";

describe("f16Bits", () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [1 / 3, 0x3555],
    [1 + 2 ** -11, 0x3c00], // halfway: rounds to even
    [1 + 3 * 2 ** -11, 0x3c02], // halfway: rounds to even (up)
    [2 ** -24, 0x0001], // smallest subnormal
    [30 / 128, 0x3380],
  ];
  test.each(cases)("Should encode %d as bits %d", (value, bits) => {
    expect(f16Bits(value)).toBe(bits);
  });
});

describe("SeededRandom", () => {
  test("Should fill the same stream nextU32 yields", () => {
    const one = new SeededRandom(42, "x");
    const bulk = new SeededRandom(42, "x");
    const filled = new Uint32Array(9);
    bulk.fill(filled, 5);
    bulk.fill(filled.subarray(5));
    expect(Array.from(filled)).toEqual(Array.from({ length: 9 }, () => one.nextU32()));
  });

  test("Should pin the stream for a seed - forged bytes depend on it", () => {
    const random = new SeededRandom(1, "blk.0.attn_q.weight");
    expect([random.nextU32(), random.nextU32(), random.nextU32()]).toEqual([1957326340, 343653910, 897555160]);
  });

  test("Should give independent streams per name", () => {
    expect(new SeededRandom(1, "a").nextU32()).not.toBe(new SeededRandom(1, "b").nextU32());
  });
});
