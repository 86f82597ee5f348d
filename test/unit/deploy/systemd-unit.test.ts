/**
 * deploy/systemd/enclave.service: systemd parses it without a warning (systemd-analyze verify, where
 * installed) and it keeps the hardening and the paths the README and the install notes rely on.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const unitPath = join(import.meta.dir, "../../../deploy/systemd/enclave.service");
const text = readFileSync(unitPath, "utf8");

/** The unit as section -> key -> values (a key may repeat); comments and blank lines dropped. */
function parseUnit(source: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | null = null;
  source.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const header = line.match(/^\[([A-Za-z]+)\]$/);
    if (header != null) {
      current = new Map();
      sections.set(header[1]!, current);
      return;
    }
    const entry = line.match(/^([A-Za-z][A-Za-z0-9]*)=(.*)$/);
    if (entry == null || current == null) throw new Error(`line ${index + 1} is neither a section, a Key=value nor a comment: ${raw}`);
    const values: string[] = current.get(entry[1]!) ?? [];
    values.push(entry[2]!);
    current.set(entry[1]!, values);
  });
  return sections;
}

const systemdAnalyze = Bun.which("systemd-analyze");

describe("deploy/systemd/enclave.service", () => {
  test("Should parse as a unit and run serve on /etc/enclave/enclave.toml as a dedicated user with its state directory", () => {
    const unit = parseUnit(text);
    expect([...unit.keys()]).toEqual(["Unit", "Service", "Install"]);
    const service = unit.get("Service")!;
    const one = (key: string) => service.get(key)?.at(-1);
    expect(one("ExecStart")).toBe("/usr/local/bin/enclave serve --config /etc/enclave/enclave.toml");
    expect(one("User")).toBe("enclave");
    expect(one("DynamicUser")).toBeUndefined();
    expect(one("StateDirectory")).toBe("enclave");
    expect(one("WorkingDirectory")).toBe("/var/lib/enclave");
    expect(unit.get("Install")!.get("WantedBy")).toEqual(["multi-user.target"]);
  });

  test("Should reload with SIGHUP to the main process - `systemctl reload enclave` rereads the config file instead of restarting", () => {
    expect(parseUnit(text).get("Service")!.get("ExecReload")).toEqual(["/bin/kill -HUP $MAINPID"]);
  });

  test.each([
    ["ProtectSystem", "strict"],
    ["ProtectHome", "yes"],
    ["NoNewPrivileges", "yes"],
    ["PrivateTmp", "yes"],
    ["RestrictSUIDSGID", "yes"],
    ["CapabilityBoundingSet", ""],
    ["UMask", "0077"],
  ])("Should harden the service - %s=%s", (key, value) => {
    expect(parseUnit(text).get("Service")!.get(key)).toEqual([value]);
  });

  test.skipIf(systemdAnalyze == null)("Should pass systemd-analyze verify without a warning - every key known and every value parsed", () => {
    // verify also wants ExecStart's binary to exist: point it at one that does, nothing else changes.
    const dir = mkdtempSync(join(tmpdir(), "enclave-unit-"));
    const copy = join(dir, "enclave.service");
    writeFileSync(copy, text.replace("/usr/local/bin/enclave ", `${process.execPath} `));
    const result = Bun.spawnSync([systemdAnalyze!, "verify", copy], { stdout: "pipe", stderr: "pipe" });
    expect({ exitCode: result.exitCode, stderr: result.stderr.toString(), stdout: result.stdout.toString() }).toEqual({ exitCode: 0, stderr: "", stdout: "" });
  });

  test.skipIf(systemdAnalyze == null)("Should fail the verify check on an unknown key - so a typo in the unit cannot pass", () => {
    const dir = mkdtempSync(join(tmpdir(), "enclave-unit-"));
    const copy = join(dir, "enclave.service");
    writeFileSync(copy, text.replace("/usr/local/bin/enclave ", `${process.execPath} `).replace("ProtectSystem=strict", "ProtectSystem=stricter"));
    const result = Bun.spawnSync([systemdAnalyze!, "verify", copy], { stdout: "pipe", stderr: "pipe" });
    expect(result.stderr.toString()).toContain("stricter");
  });
});
