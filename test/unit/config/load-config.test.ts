import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../../src/config/config-error";
import { loadConfig } from "../../../src/config/load";

const dir = mkdtempSync(join(tmpdir(), "enclave-config-"));
let fileCount = 0;

function configFile(toml: string): string {
  const file = join(dir, `c${fileCount++}.toml`);
  writeFileSync(file, toml);
  return file;
}

function problemsOf(toml: string, env: Record<string, string> = {}) {
  try {
    loadConfig({ path: configFile(toml), env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadConfig", () => {
  test("Should apply built-in defaults - an empty file is a valid config", () => {
    const { config } = loadConfig({ path: configFile(""), env: {} });
    expect(config.server).toMatchObject({ host: "127.0.0.1", port: 8080 });
    expect(config.storage.data_dir).toBe(join(dir, "data"));
    expect(config.models).toEqual([]);
  });

  test("Should return a frozen config - config is read once and never mutated", () => {
    const { config } = loadConfig({ path: configFile(""), env: {} });
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  test("Should accept a full model with draft", () => {
    const { config } = loadConfig({
      path: configFile(`[[models]]\nid = "m"\npath = "m.gguf"\n[models.draft]\npath = "d.gguf"\nmax_tokens = 8\n`),
      env: {},
    });
    expect(config.models[0]).toMatchObject({ id: "m", speculative: "auto", draft: { path: join(dir, "d.gguf"), min_tokens: 1, max_tokens: 8 } });
  });

  test.each([
    ["ENCLAVE_SERVER_PORT", "9000", ["server", "port"], 9000],
    ["ENCLAVE_SERVER_HOST", "0.0.0.0", ["server", "host"], "0.0.0.0"],
    ["ENCLAVE_SERVER_CORS_ORIGINS", "https://a.example, https://b.example", ["server", "cors_origins"], ["https://a.example", "https://b.example"]],
    ["ENCLAVE_LOGGING_LEVEL", "debug", ["logging", "level"], "debug"],
    ["ENCLAVE_STORAGE_DATA_DIR", "/var/lib/enclave", ["storage", "data_dir"], "/var/lib/enclave"],
  ] as const)("Should override from the environment - %s=%s", (name, value, path, expected) => {
    const { config } = loadConfig({ path: configFile(`[server]\nport = 1234\n`), env: { ENCLAVE_METRICS_TOKEN: "scrape", [name]: value } });
    expect(path.reduce<any>((node, key) => node[key], config)).toEqual(expected);
  });

  test.each([
    ["a string where a number belongs", `[server]\nport = "eighty"`, "server.port", "a number", `"eighty" (string)`],
    ["a port out of range", `[server]\nport = 70000`, "server.port", "<= 65535", "70000"],
    ["a misspelt key", `[server]\nhots = "x"`, "server.hots", "one of the known keys: host, port", "an unknown key"],
    ["an unknown section", `[serverr]\nport = 1`, "serverr", "one of the known keys: server, storage", "an unknown key"],
    ["an unknown enum value", `[logging]\nlevel = "loud"`, "logging.level", `one of "trace"`, `"loud"`],
    ["a model without a path", `[[models]]\nid = "m"`, "models[0].path", "a string", "nothing (required)"],
    ["a draft with min above max", `[[models]]\nid="m"\npath="m"\n[models.draft]\npath="d"\nmin_tokens=9\nmax_tokens=4`, "models[0].draft.min_tokens", "min_tokens (9) is larger than max_tokens (4)", "9"],
    ["two default models", `[[models]]\nid="a"\npath="a"\ndefault=true\n[[models]]\nid="b"\npath="b"\ndefault=true`, "models", "more than one model has default = true", ""],
    ["duplicate model ids", `[[models]]\nid="a"\npath="a"\n[[models]]\nid="a"\npath="b"`, "models[1].id", "duplicate model id 'a'", `"a"`],
    ["speculative draft without a draft", `[[models]]\nid="a"\npath="a"\nspeculative="draft"`, "models[0].draft", `needs a [models.draft] table`, "nothing"],
  ])("Should report %s with key, expected and got", (_name, toml, key, expected, got) => {
    const problems = problemsOf(toml);
    const problem = problems.find((candidate) => candidate.key === key);
    expect(problem).toBeDefined();
    expect(problem!.expected).toContain(expected);
    expect(problem!.got).toContain(got);
    expect(problem!.source).toEndWith(".toml");
  });

  test("Should report every problem at once - not only the first", () => {
    const problems = problemsOf(`[server]\nport = "x"\nhost = 5\n[logging]\nlevel = "loud"`);
    expect(problems.map((problem) => problem.key).sort()).toEqual(["logging.level", "server.host", "server.port"]);
  });

  test("Should name the environment variable as the source - a bad override is not the file's fault", () => {
    const problems = problemsOf("", { ENCLAVE_SERVER_PORT: "abc" });
    expect(problems).toEqual([{ source: "ENCLAVE_SERVER_PORT", key: "server.port", expected: "a number", got: `"abc" (string)` }]);
  });

  test("Should report a TOML syntax error with its line", () => {
    const [problem] = problemsOf(`[server]\nport = = 3`);
    expect(problem!.key).toBe("(syntax)");
    expect(problem!.source).toMatch(/\.toml:2:\d+$/);
  });

  test("Should refuse a missing explicit config file", () => {
    expect(() => loadConfig({ path: join(dir, "absent.toml"), env: {} })).toThrow(ConfigError);
  });
});

describe("loadConfig finds the file", () => {
  const first = configFile(`[server]\nport = 1001\n`);
  const second = configFile(`[server]\nport = 1002\n`);
  const portOf = (options: Parameters<typeof loadConfig>[0]) => loadConfig(options).config.server.port;

  test.each([
    ["--config over ENCLAVE_CONFIG and the search list", { path: first, env: { ENCLAVE_CONFIG: second }, search: [second] }, 1001],
    ["ENCLAVE_CONFIG over the search list", { env: { ENCLAVE_CONFIG: first }, search: [second] }, 1001],
    ["the first search path that exists", { env: {}, search: [join(dir, "absent.toml"), second, first] }, 1002],
    ["built-in defaults when nothing is found", { env: {}, search: [join(dir, "absent.toml")] }, 8080],
  ] as const)("Should take %s", (_, options, port) => {
    expect(portOf(options)).toBe(port);
  });

  test("Should refuse an ENCLAVE_CONFIG that names no file - naming the variable, not falling back", () => {
    expect(() => loadConfig({ env: { ENCLAVE_CONFIG: join(dir, "absent.toml") }, search: [first] })).toThrow(/ENCLAVE_CONFIG: \(file\): expected a readable TOML file; got no such file/);
  });
});

describe("loadConfig resolves paths", () => {
  const nested = join(dir, "etc", "enclave");
  mkdirSync(nested, { recursive: true });
  const file = join(nested, "enclave.toml");
  writeFileSync(
    file,
    `[storage]\ndata_dir = "state"\n[residency]\nallowed_paths = ["..", "/srv/models"]\n[retention]\npayload_key_file = "key"\n[server.tls]\ncert = "tls/cert.pem"\nkey = "/abs/key.pem"\n` +
      `[[models]]\nid = "m"\npath = "../models/m.gguf"\n[models.draft]\npath = "d.gguf"\n`,
  );

  test("Should resolve every relative path in the file against the file's directory - not the working directory", () => {
    const { config } = loadConfig({ path: file, env: {} });
    expect(config.storage.data_dir).toBe(join(nested, "state"));
    expect(config.residency.allowed_paths).toEqual([join(dir, "etc"), "/srv/models"]);
    expect(config.retention.payload_key_file).toBe(join(nested, "key"));
    expect(config.server.tls).toEqual({ cert: join(nested, "tls/cert.pem"), key: "/abs/key.pem" });
    expect(config.models[0]).toMatchObject({ path: join(dir, "etc", "models", "m.gguf"), draft: { path: join(nested, "d.gguf") } });
  });

  test("Should resolve the default data dir beside the config file - the CLI finds the server's store from any directory", () => {
    const bare = join(nested, "bare.toml");
    writeFileSync(bare, "");
    expect(loadConfig({ path: bare, env: {} }).config.storage.data_dir).toBe(join(nested, "data"));
  });

  test("Should resolve a path from the environment against the working directory - as a shell user typed it", () => {
    const { config } = loadConfig({ path: file, env: { ENCLAVE_STORAGE_DATA_DIR: "here" } });
    expect(config.storage.data_dir).toBe(join(process.cwd(), "here"));
  });
});
