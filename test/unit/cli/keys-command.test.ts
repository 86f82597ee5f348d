import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accountsCommand } from "../../../src/cli/accounts-command";
import { keysCommand } from "../../../src/cli/keys-command";
import { usageCommand } from "../../../src/cli/usage-command";
import { openStore } from "../../../src/db/client";
import { migrate } from "../../../src/db/migrate";
import { sqliteAccountServices } from "../../support/sqlite-account-services";

let dir: string;
let configPath: string;
let out: string[];
let err: string[];
let spies: { mockRestore(): void }[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "enclave-cli-"));
  configPath = join(dir, "enclave.toml");
  writeFileSync(configPath, `[storage]\ndata_dir = ${JSON.stringify(join(dir, "data"))}\n[auth]\npepper = "cli-test-pepper"\n`);
  // The server's first start creates the store; the commands then work on it.
  using store = openStore(join(dir, "data"));
  migrate(store);
  out = [];
  err = [];
  spies = [
    spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(args.join(" "))),
    spyOn(console, "error").mockImplementation((...args: unknown[]) => void err.push(args.join(" "))),
  ];
});
afterEach(() => spies.forEach((spy) => spy.mockRestore()));

const secretIn = (lines: string[]) => lines.join("\n").match(/enk_[0-9A-Za-z]{43}/)?.[0];

describe("enclave keys / accounts / usage", () => {
  test("Should bootstrap an admin key on an empty store without any key - printing the secret once", async () => {
    expect(await keysCommand(["create", "--role", "admin", "--name", "ops", "--config", configPath])).toBe(0);
    const secret = secretIn(out);
    expect(secret).toBeDefined();
    expect(out.join("\n")).toContain("shown once");

    using store = openStore(join(dir, "data"));
    const { key } = await sqliteAccountServices(store.db, "cli-test-pepper").keys.authenticate(secret!);
    expect(key).toMatchObject({ name: "ops", role: "admin" });
    expect(store.sqlite.query("select action, actor from audit_log").all()).toContainEqual({ action: "key.create", actor: expect.stringMatching(/^cli:/) });

    out.length = 0;
    expect(await keysCommand(["list", "--config", configPath])).toBe(0);
    expect(out.join("\n")).toContain("ops");
    expect(secretIn(out)).toBeUndefined();
    expect(out.join("\n")).toContain(secret!.slice(0, 12));
  });

  test("Should create an account, a limited key in it, and revoke the key", async () => {
    expect(await accountsCommand(["create", "--name", "acme", "--budget-period", "month", "--budget-tokens", "1000", "--config", configPath])).toBe(0);
    expect(await keysCommand(["create", "--name", "svc", "--account", "acme", "--models", "demo,other", "--rpm", "60", "--json", "--config", configPath])).toBe(0);
    const created = JSON.parse(out.at(-1)!);
    expect(created).toMatchObject({ name: "svc", role: "user", models: ["demo", "other"], rpm: 60 });
    expect(created.secret).toMatch(/^enk_/);
    expect(await keysCommand(["update", created.id, "--rpm", "none", "--tpm", "500", "--json", "--config", configPath])).toBe(0);
    expect(await keysCommand(["revoke", created.id, "--config", configPath])).toBe(0);
    expect(out.at(-1)).toContain(`revoked key ${created.id}`);
    expect(await usageCommand(["--by", "account,model", "--config", configPath])).toBe(0);
  });

  test("Should set, check and clear allowed_regions on accounts and keys - within [residency] and the account's list", async () => {
    writeFileSync(configPath, `[storage]\ndata_dir = ${JSON.stringify(join(dir, "data"))}\n[auth]\npepper = "cli-test-pepper"\n[residency]\nregion = "eu-1"\nallowed_regions = ["eu-1", "eu-2"]\n`);
    expect(await accountsCommand(["create", "--name", "team", "--allowed-regions", "eu-1", "--json", "--config", configPath])).toBe(0);
    expect(JSON.parse(out.at(-1)!)).toMatchObject({ name: "team", allowed_regions: ["eu-1"] });
    expect(await keysCommand(["create", "--name", "svc", "--account", "team", "--allowed-regions", "eu-1", "--json", "--config", configPath])).toBe(0);
    const created = JSON.parse(out.at(-1)!);
    expect(created.allowed_regions).toEqual(["eu-1"]);

    expect(await keysCommand(["create", "--name", "wide", "--account", "team", "--allowed-regions", "eu-1,eu-2", "--config", configPath])).toBe(1);
    expect(err.at(-1)).toMatch(/region 'eu-2' is not among the allowed regions of account 'acct_\w+' \(eu-1\)/);
    expect(await keysCommand(["create", "--name", "us", "--allowed-regions", "us-1", "--config", configPath])).toBe(1);
    expect(err.at(-1)).toContain("region 'us-1' is not among this installation's allowed regions ([residency]) (eu-1, eu-2)");
    expect(await accountsCommand(["update", "team", "--allowed-regions", "eu-2", "--config", configPath])).toBe(1);
    expect(err.at(-1)).toContain(`key '${created.id}' allows region 'eu-1'`);

    expect(await keysCommand(["update", created.id, "--allowed-regions", "none", "--json", "--config", configPath])).toBe(0);
    expect(JSON.parse(out.at(-1)!).allowed_regions).toBeNull();
    expect(await accountsCommand(["update", "team", "--allowed-regions", "eu-2", "--json", "--config", configPath])).toBe(0);
    expect(JSON.parse(out.at(-1)!).allowed_regions).toEqual(["eu-2"]);
  });

  const failures: [string, string[], number, RegExp][] = [
    ["no action", [], 2, /keys needs an action/],
    ["an unknown action", ["rotate"], 2, /unknown action 'rotate'/],
    ["create without a name", ["create"], 2, /needs --name/],
    ["an unknown role", ["create", "--name", "x", "--role", "root"], 1, /invalid 'role'/],
    ["a non-numeric limit", ["create", "--name", "x", "--rpm", "lots"], 2, /--rpm expects a number/],
    ["an unknown account", ["create", "--name", "x", "--account", "nobody"], 1, /no account 'nobody'/],
    ["revoke of an unknown key", ["revoke", "key_nope"], 1, /no key 'key_nope'/],
    ["an unknown flag", ["list", "--colour"], 2, /^enclave keys: unknown option '--colour'; see 'enclave keys --help'$/],
    ["a flag without its value", ["list", "--account"], 2, /^enclave keys: --account needs a value \(--account ID\|NAME\)/],
  ];
  for (const [name, args, code, message] of failures)
    test(`Should exit ${code} with a clear message on ${name}`, async () => {
      expect(await keysCommand([...args, "--config", configPath])).toBe(code);
      expect(err.join("\n")).toMatch(message);
    });

  test("Should refuse to create a store where none exists - naming it and asking for --init", async () => {
    const elsewhere = join(dir, "elsewhere.toml");
    writeFileSync(elsewhere, `[storage]\ndata_dir = "other-data"\n`);
    expect(await keysCommand(["create", "--role", "admin", "--name", "lost", "--config", elsewhere])).toBe(1);
    expect(err).toEqual([`enclave: no store at ${join(dir, "other-data", "enclave.sqlite")} (config: ${elsewhere}); run the command again with --init to create it there, or point --config or ENCLAVE_CONFIG at the server's config`]);
    expect(existsSync(join(dir, "other-data"))).toBe(false);

    expect(await keysCommand(["create", "--role", "admin", "--name", "first", "--init", "--config", elsewhere])).toBe(0);
    expect(existsSync(join(dir, "other-data", "enclave.sqlite"))).toBe(true);
  });

  test.each([["create"], ["list"], []])("Should print help and exit 0 without touching the store - keys %p --help", async (...action) => {
    expect(await keysCommand([...action, "--help", "--config", join(dir, "absent.toml")])).toBe(0);
    expect(out.join("\n")).toStartWith(`usage: enclave keys ${action[0] ?? "<action>"}`);
    expect(out.join("\n")).toContain("--config PATH");
    expect(err).toEqual([]);
  });

  test("Should list an action's own options in its help - generated from the parser's definitions", async () => {
    expect(await keysCommand(["list", "--help"])).toBe(0);
    const help = out.join("\n");
    expect(help).toContain("--all");
    expect(help).not.toContain("--rpm");
  });

  test("Should attribute CLI actions to the OS user - never cli:unknown", async () => {
    expect(await keysCommand(["create", "--name", "who", "--config", configPath])).toBe(0);
    using store = openStore(join(dir, "data"));
    const actors = store.sqlite.query("select actor from audit_log").all() as { actor: string }[];
    expect(actors.length).toBeGreaterThan(0);
    for (const { actor } of actors) expect(actor).toMatch(/^cli:(?!unknown$)\S+$/);
  });
});
