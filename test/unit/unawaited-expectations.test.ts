import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const testDir = join(import.meta.dir, "..");

/** `expect(…).rejects|resolves` sites in `source` that are neither awaited nor returned: "file:line". */
function unawaited(source: string, file: string): string[] {
  const sites: string[] = [];
  for (const match of source.matchAll(/\)\s*\.(rejects|resolves)\b/g)) {
    let depth = 0;
    let open = match.index;
    for (; open >= 0; open--) {
      if (source[open] === ")") depth++;
      else if (source[open] === "(" && --depth === 0) break;
    }
    const before = source.slice(0, open);
    if (!before.endsWith("expect")) continue;
    if (/(await|return)\s*$/.test(before.slice(0, -"expect".length))) continue;
    sites.push(`${file}:${before.split("\n").length}`);
  }
  return sites;
}

describe("the test suite itself", () => {
  test("Should await every expect(promise).rejects/resolves - an unawaited one passes vacuously when the runner stops blocking on it", () => {
    const files = readdirSync(testDir, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts") && !import.meta.path.endsWith(file));
    expect(files.length).toBeGreaterThan(50);
    expect(unawaited("expect(p).rejects.toThrow(); await expect(q).resolves.toBe(1);", "sample")).toEqual(["sample:1"]);
    expect(files.flatMap((file) => unawaited(readFileSync(join(testDir, file), "utf8"), file))).toEqual([]);
  });
});
