import { describe, expect, test } from "bun:test";
import { api, guardedApp } from "./auth/harness";
import { request } from "../support/test-app";

/** mulberry32: a small seeded PRNG, so a failure reproduces from its seed. */
function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const SEED = 0x5eed16;
const REQUESTS = 4000;

const STRINGS = ["", "\u0000", "\ud800", "\udfff", "a\u202eb", "\u200f\u0645", "💥".repeat(50), "%2e%2e/", "../../etc/passwd", "<script>", "null", "fake", "x".repeat(70_000), " ", "\\u0000"];
const PARAMS = [
  "model", "messages", "prompt", "input", "stream", "stream_options", "stop", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "n", "logit_bias",
  "logprobs", "top_logprobs", "tools", "tool_choice", "response_format", "user", "metadata", "encoding_format", "dimensions", "echo", "suffix", "best_of",
  "name", "role", "account_id", "parent_id", "limits", "concurrency", "rpm", "tpm", "budget", "models", "allowed_ips", "allowed_regions", "expires_at", "credits", "amount",
];

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

function value(random: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  switch (Math.floor(random() * (depth > 2 ? 8 : 12))) {
    case 0: return pick(STRINGS);
    case 1: return pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, 1e-320]);
    case 2: return pick([true, false, null]);
    case 3: return nested(pick([50, 500, 3000]));
    case 4: return Array.from({ length: pick([0, 1, 5, 3000]) }, () => pick(STRINGS.slice(0, 12)));
    case 5: return { type: pick(["text", "image_url", "json_schema", "json_object", "function", "x"]), text: pick(STRINGS) };
    case 6: return { enum: pick(["abc", 5, [], Array.from({ length: 2000 }, (_, i) => i)]), oneOf: pick([5, null, [{}]]), properties: { a: null }, $ref: "#/$defs/missing" };
    case 7: return pick(STRINGS) + String(random());
    case 8: return Object.fromEntries(Array.from({ length: 3 }, () => [pick(PARAMS), value(random, depth + 1)]));
    case 9: return [value(random, depth + 1), value(random, depth + 1)];
    case 10: return { role: pick(["user", "system", "assistant", "tool", "bogus"]), content: value(random, depth + 1), tool_calls: value(random, depth + 1) };
    default: return [{ type: "function", function: { name: pick(["f", "", "bad name", "x".repeat(65)]), parameters: value(random, depth + 1) } }];
  }
}

function body(random: () => number): string {
  const roll = random();
  if (roll < 0.1) return ["{", "{\"model\":", "[]", "null", "\"x\"", "{\"a\":1,}", "\u0000", "{\"model\":\"fake\"", "1e999", ""][Math.floor(random() * 10)]!;
  const object: Record<string, unknown> = roll < 0.6 ? { model: "fake", messages: [{ role: "user", content: "count 1" }], max_tokens: 2 } : {};
  const fields = 1 + Math.floor(random() * 4);
  for (let i = 0; i < fields; i++) object[PARAMS[Math.floor(random() * PARAMS.length)]!] = value(random);
  return JSON.stringify(object);
}

describe("fuzz: hostile requests against every /v1 and /admin route", () => {
  test(`Should never answer 5xx, always answer errors in the OpenAI shape without a stack or a path, stay responsive, and leave no sequence busy - seed ${SEED}`, async () => {
    using h = await guardedApp({ config: { limits: { concurrency: 64, queue_size: 64 } }, fake: { naturalLength: 4 } });
    const user = (await h.keys.create(h.cli, { name: "fuzz-user", account_id: h.root.id })).secret;
    const routes = h.app.routes
      .filter((route) => /^\/(v1|admin)\b/.test(route.path) && route.method !== "ALL")
      .map((route) => ({ method: route.method, path: route.path }));
    expect(routes.length).toBeGreaterThan(10);
    const random = prng(SEED);
    const failures: string[] = [];
    const started = performance.now();

    for (let batch = 0; batch < REQUESTS / 50; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, index) => {
          const route = routes[Math.floor(random() * routes.length)]!;
          const path = route.path.replace(/:[a-z_]+/gi, () => encodeURIComponent(String(value(random, 3)).toWellFormed()).slice(0, 300) || "x");
          const secret = random() < 0.7 ? h.adminSecret : random() < 0.8 ? user : null;
          const hasBody = route.method !== "GET" && route.method !== "HEAD";
          const text = hasBody ? body(random) : undefined;
          const headers: Record<string, string> = { "content-type": random() < 0.9 ? "application/json" : "text/plain" };
          if (random() < 0.1) headers["x-enclave-wait-for-model"] = String(value(random, 3)).slice(0, 50).replace(/[^\x20-\x7e]/g, "?");
          const response = await h.app.handle(api(`${path}${random() < 0.1 ? "?stream=true&x=%00" : ""}`, secret, { method: route.method, body: text, headers }));
          const raw = await response.text();
          const where = `${route.method} ${route.path} #${batch * 50 + index}`;
          if (response.status >= 500) failures.push(`${where}: ${response.status} ${raw.slice(0, 200)}`);
          if (/    at |\/src\/|\.ts:\d/.test(raw)) failures.push(`${where}: internal text in body`);
          if (response.status >= 400) {
            const body = (() => {
              try {
                return JSON.parse(raw);
              } catch {
                return null;
              }
            })();
            const error = body?.error;
            // The Anthropic-compatible paths answer in Anthropic's shape, every other path in OpenAI's.
            const anthropic = route.path.startsWith("/v1/messages");
            const shaped = anthropic
              ? body?.type === "error" && typeof error?.type === "string" && typeof error?.message === "string"
              : error != null && typeof error.message === "string" && typeof error.type === "string" && "param" in error && "code" in error;
            if (!shaped) failures.push(`${where}: ${response.status} not in the ${anthropic ? "Anthropic" : "OpenAI"} error shape`);
          }
        }),
      );
      const health = await h.app.handle(request("/health"));
      expect(health.status).toBe(200);
    }

    expect(failures).toEqual([]);
    // Streams the fuzzer read to the end have released their sequences; nothing is left busy.
    expect(h.stats.inFlight).toBe(0);
    const status = await h.app.handle(api("/admin/status", h.adminSecret));
    expect(status.status).toBe(200);
    const busy = [...(await status.text()).matchAll(/"busy_sequences":(\d+)/g)].map((match) => Number(match[1]));
    expect(busy.length).toBeGreaterThan(0);
    expect(busy.every((count) => count === 0)).toBe(true);
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 90_000);
});
