/**
 * Three `enclave serve` processes on one Postgres store, as a fleet runs: a key made through one
 * node works on the others, one key's concurrency cap holds across all three, a node killed with
 * SIGKILL mid-stream gives its leases back within the lease expiry while the others keep serving,
 * and afterwards the metered usage equals what the clients received and the audit chain verifies.
 * Runs where ENCLAVE_TEST_DATABASE_URL names a server (.ci/postgres.sh; required under CI).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL, type Subprocess } from "bun";
import { forgePair, resolveForgeOptions } from "../../src/forge";
import { createPgTestDatabase, reachablePostgres } from "../support/pg-test-database";
import { freePort } from "../support/free-port";

const main = join(import.meta.dir, "../../src/main.ts");
const work = mkdtempSync(join(tmpdir(), "enclave-fleet-"));
const serverUrl = await reachablePostgres();
const database = serverUrl != null ? await createPgTestDatabase(serverUrl) : null;
const KEY_CONCURRENCY = 3;
const QUEUE_SIZE = 3;
const LEASE_SECONDS = 15;

interface Node {
  index: number;
  url: string;
  child: Subprocess;
}

const nodes: Node[] = [];
let modelPath = "";
let adminSecret = "";

function configFile(index: number, port: number): string {
  const file = join(work, `node${index}.toml`);
  writeFileSync(
    file,
    [
      "[server]",
      `port = ${port}`,
      "[storage]",
      `data_dir = ${JSON.stringify(join(work, `node${index}`))}`,
      "[auth]",
      'pepper = "fleet-pepper"',
      "[limits]",
      `queue_size = ${QUEUE_SIZE}`,
      "queue_wait_seconds = 40",
      "[logging]",
      'level = "warn"',
      "[[models]]",
      'id = "tiny"',
      `path = ${JSON.stringify(modelPath)}`,
      "context_size = 512",
      "parallel = 4",
      "threads = 1",
      "",
    ].join("\n"),
  );
  return file;
}

const env = () => ({ ...process.env, ENCLAVE_STORAGE_DATABASE_URL: database!.url, ENCLAVE_LOGGING_LEVEL: "warn" });

async function cli(args: string[]) {
  const child = Bun.spawn([process.execPath, main, ...args, "--config", join(work, "node0.toml")], { cwd: work, stdout: "pipe", stderr: "pipe", env: env() });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { stdout, stderr, exitCode };
}


async function startNode(index: number): Promise<Node> {
  const port = freePort();
  mkdirSync(join(work, `node${index}`), { recursive: true });
  const child = Bun.spawn([process.execPath, main, "serve", "--config", configFile(index, port)], { cwd: work, stdout: "ignore", stderr: "pipe", env: env() });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode != null) throw new Error(`node ${index} exited with ${child.exitCode}: ${await new Response(child.stderr as ReadableStream).text()}`);
    const ready = await fetch(`${url}/ready`).then((response) => response.status === 200, () => false);
    if (ready) return { index, url, child };
    await Bun.sleep(100);
  }
  throw new Error(`node ${index} was not ready within 60 s`);
}

interface StreamResult {
  node: number;
  status: number;
  retryAfter: string | null;
  /** When the first and the last generated text arrived (performance.now()). */
  firstAt: number;
  lastAt: number;
  completionTokens: number;
  promptTokens: number;
  text: string;
}

/** One streamed completion; resolves with what the client saw. */
async function stream(node: Node, secret: string, maxTokens: number, onFirst?: () => void, prompt = "the fleet"): Promise<StreamResult> {
  const response = await fetch(`${node.url}/v1/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", prompt, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  const result: StreamResult = { node: node.index, status: response.status, retryAfter: response.headers.get("retry-after"), firstAt: 0, lastAt: 0, completionTokens: 0, promptTokens: 0, text: "" };
  if (response.status !== 200) {
    await response.text();
    return result;
  }
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body!) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end).replace(/^data: /, "");
      buffer = buffer.slice(end + 2);
      if (event === "[DONE]") continue;
      const parsed = JSON.parse(event) as { choices: { text: string }[]; usage?: { prompt_tokens: number; completion_tokens: number } };
      const text = parsed.choices[0]?.text ?? "";
      if (text !== "") {
        if (result.firstAt === 0) {
          result.firstAt = performance.now();
          onFirst?.();
        }
        result.lastAt = performance.now();
        result.text += text;
      }
      if (parsed.usage != null) {
        result.promptTokens = parsed.usage.prompt_tokens;
        result.completionTokens = parsed.usage.completion_tokens;
      }
    }
  }
  return result;
}

/** The most streams generating at once, from the clients' own first- and last-text times. */
function mostAtOnce(results: StreamResult[]): number {
  const edges = results.filter((result) => result.firstAt > 0).flatMap((result) => [{ at: result.firstAt, delta: 1 }, { at: result.lastAt, delta: -1 }]);
  // At equal times an end counts before a start: touching intervals do not overlap.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let most = 0;
  for (const edge of edges) most = Math.max(most, (running += edge.delta));
  return most;
}

/** How many files under `dir` hold each needle (the cluster's tables, WAL and logs alike). */
function scanFor(dir: string, needles: string[]): Map<string, number> {
  const found = new Map<string, number>();
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        let bytes: Buffer;
        try {
          bytes = readFileSync(full);
        } catch {
          continue; // a file removed while walking (a recycled WAL segment)
        }
        for (const needle of needles) if (bytes.includes(needle)) found.set(needle, (found.get(needle) ?? 0) + 1);
      }
    }
  };
  walk(dir);
  return found;
}

async function admin(node: Node, method: string, path: string, body?: object) {
  const response = await fetch(`${node.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${adminSecret}`, "content-type": "application/json" },
    body: body == null ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  if (database == null) return;
  const manifest = await forgePair(resolveForgeOptions("tiny"), join(work, "models"));
  modelPath = join(work, "models", manifest.target.file);
  configFile(0, 0);
  const migrated = await cli(["store", "migrate", "--init"]);
  if (migrated.exitCode !== 0) throw new Error(`store migrate: ${migrated.stderr}`);
  const created = await cli(["keys", "create", "--role", "admin", "--name", "fleet-admin", "--json"]);
  if (created.exitCode !== 0) throw new Error(`keys create: ${created.stderr}`);
  adminSecret = (JSON.parse(created.stdout) as { secret: string }).secret;
  nodes.push(...(await Promise.all([1, 2, 3].map(startNode))));
}, 120_000);

afterAll(async () => {
  for (const node of nodes) node.child.kill("SIGKILL");
  await Promise.all(nodes.map((node) => node.child.exited));
  await database?.[Symbol.asyncDispose]();
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(database == null)("a fleet of three nodes on one Postgres store", () => {
  let userSecret = "";
  let keyId = "";
  const received: StreamResult[] = [];

  test("Should accept a key made through node 1 on nodes 2 and 3", async () => {
    const created = await admin(nodes[0]!, "POST", "/keys", { name: "fleet-user", concurrency: KEY_CONCURRENCY });
    expect(created.status).toBe(201);
    userSecret = created.body.secret as string;
    keyId = created.body.id as string;
    for (const node of nodes) {
      const result = await stream(node, userSecret, 4);
      expect({ node: node.index, status: result.status }).toEqual({ node: node.index, status: 200 });
      received.push(result);
    }
  }, 30_000);

  test("Should hold one key's cap across the fleet - 12 streams over 3 nodes, never more than 3 at once, 429s with Retry-After", async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, index) => stream(nodes[index % 3]!, userSecret, 48)));
    received.push(...results);
    const served = results.filter((result) => result.status === 200);
    const refused = results.filter((result) => result.status === 429);
    expect(served.length + refused.length).toBe(12);
    expect(served.length).toBeGreaterThanOrEqual(KEY_CONCURRENCY);
    expect(refused.every((result) => result.retryAfter != null && Number(result.retryAfter) > 0)).toBe(true);
    expect(new Set(served.map((result) => result.node)).size).toBeGreaterThan(1);
    expect(mostAtOnce(served)).toBeLessThanOrEqual(KEY_CONCURRENCY);
  }, 90_000);

  test("Should give a killed node's leases back within the expiry - the others keep serving", async () => {
    const victim = nodes[2]!;
    // Three long streams on the victim hold every slot of the key.
    let started = 0;
    const allStarted = Promise.withResolvers<void>();
    const doomed = Array.from({ length: KEY_CONCURRENCY }, () =>
      stream(victim, userSecret, 400, () => ++started === KEY_CONCURRENCY && allStarted.resolve()).catch(() => null),
    );
    await allStarted.promise;
    victim.child.kill("SIGKILL");
    await victim.child.exited;
    const killedAt = performance.now();
    await Promise.all(doomed);

    const after = await Promise.all(Array.from({ length: KEY_CONCURRENCY }, (_, index) => stream(nodes[index % 2]!, userSecret, 8)));
    received.push(...after);
    expect(after.map((result) => result.status)).toEqual(Array(KEY_CONCURRENCY).fill(200));
    const waited = Math.max(...after.map((result) => result.firstAt)) - killedAt;
    expect(waited).toBeLessThan((LEASE_SECONDS + 5) * 1000);
  }, 90_000);

  test("Should write no prompt or completion into the Postgres data directory - zero data retention holds on the shared store", async () => {
    const dataDir = process.env.ENCLAVE_TEST_PG_DATA_DIR;
    if (dataDir == null) {
      if (process.env.CI === "true") throw new Error("CI=true but ENCLAVE_TEST_PG_DATA_DIR is not set: the Postgres canary scan would be skipped");
      console.warn("skipping the Postgres canary scan: ENCLAVE_TEST_PG_DATA_DIR is not set");
      return;
    }
    const canary = `canary${crypto.randomUUID().replaceAll("-", "")}`;
    // What the store does hold (a key name) proves the scan reads what Postgres wrote.
    const marker = `marker${crypto.randomUUID().replaceAll("-", "")}`;
    expect((await admin(nodes[0]!, "POST", "/keys", { name: marker })).status).toBe(201);
    const results = await Promise.all(nodes.slice(0, 2).map((node) => stream(node, userSecret, 16, undefined, `${canary} tell the fleet ${canary}`)));
    expect(results.map((result) => result.status)).toEqual([200, 200]);
    received.push(...results);
    const completions = results.map((result) => result.text).filter((text) => text.trim().length >= 12);
    const client = new SQL({ url: database!.url, max: 1 });
    await client`checkpoint`;
    await client.close();
    const found = scanFor(dataDir, [canary, marker, ...completions]);
    expect(found.get(marker)).toBeGreaterThan(0);
    expect(found.get(canary) ?? 0).toBe(0);
    for (const completion of completions) expect(found.get(completion) ?? 0).toBe(0);
  }, 60_000);

  test("Should meter exactly what the clients received, and keep one audit chain that verifies", async () => {
    const served = received.filter((result) => result.status === 200);
    // A node writes a request's usage row once its stream has ended, so the last rows may land a moment after the client saw the end.
    let usage = await admin(nodes[0]!, "GET", `/keys/${keyId}`);
    for (const deadline = Date.now() + 10_000; (usage.body.usage as { requests: number }).requests < received.length && Date.now() < deadline; ) {
      await Bun.sleep(100);
      usage = await admin(nodes[0]!, "GET", `/keys/${keyId}`);
    }
    expect(usage.status).toBe(200);
    // A 429 is metered as a request (an error row); the streams cut by the kill are not: their node died before it could write.
    expect(usage.body.usage).toMatchObject({
      requests: received.length,
      completion_tokens: served.reduce((sum, result) => sum + result.completionTokens, 0),
      prompt_tokens: served.reduce((sum, result) => sum + result.promptTokens, 0),
    });
    const verified = await cli(["audit", "verify", "--json"]);
    expect(verified.exitCode).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });
  }, 30_000);
});
