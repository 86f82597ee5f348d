import { describe, expect, test } from "bun:test";
import { createDraftLength } from "../../../src/inference/draft-length";

describe("draft length", () => {
  test("Should start at the floor and double after each step whose proposals were all validated, up to the ceiling", () => {
    const length = createDraftLength(1, 16);
    expect(length.next({ validated: 0, refuted: 0 })).toBe(1);
    expect(length.next({ validated: 1, refuted: 0 })).toBe(2);
    expect(length.next({ validated: 3, refuted: 0 })).toBe(4);
    expect(length.next({ validated: 7, refuted: 0 })).toBe(8);
    expect(length.next({ validated: 15, refuted: 0 })).toBe(16);
    expect(length.next({ validated: 31, refuted: 0 })).toBe(16);
  });

  test("Should go back to the floor after a refutation, and keep the length over a step that validated nothing", () => {
    const length = createDraftLength(2, 16);
    length.next({ validated: 2, refuted: 0 });
    expect(length.next({ validated: 6, refuted: 0 })).toBe(8);
    expect(length.next({ validated: 6, refuted: 0 })).toBe(8);
    expect(length.next({ validated: 9, refuted: 5 })).toBe(2);
    expect(length.next({ validated: 11, refuted: 5 })).toBe(4);
  });
});
