import { describe, expect, test } from "bun:test";
import { replaySlotQueue, type HeldSlots, type SlotClaim } from "../../../src/limits/replay-slot-queue";

const claim = (keyId: string, overrides: Partial<SlotClaim> = {}): SlotClaim => ({
  keyId,
  accountId: "acct",
  chain: ["acct", "parent"],
  keyLimit: 1,
  accountLimit: 0,
  chainLimits: [0, 0],
  ...overrides,
});
const held = (keyId: string, count: number, overrides: Partial<HeldSlots> = {}): HeldSlots => ({ keyId, accountId: "acct", chain: ["acct", "parent"], count, ...overrides });

describe("replaying the fleet queue", () => {
  const cases: [string, HeldSlots[], SlotClaim[], SlotClaim, boolean][] = [
    ["an empty tree has room", [], [], claim("k"), true],
    ["a key at its cap has none", [held("k", 1)], [], claim("k"), false],
    ["an older waiter of the key that fits goes first", [], [claim("k")], claim("k"), false],
    ["an account cap counts every key of the account", [held("j", 1)], [], claim("k", { accountLimit: 1 }), false],
    ["an older waiter held back by its own key's cap leaves the account's slot", [held("j", 1)], [claim("j", { accountLimit: 2 })], claim("k", { accountLimit: 2 }), true],
    ["a parent's cap counts its sub-accounts' slots", [held("s", 1, { accountId: "sibling", chain: ["sibling", "parent"] })], [], claim("k", { chainLimits: [0, 1] }), false],
    ["an uncapped parent counts but never refuses", [held("s", 5, { accountId: "sibling", chain: ["sibling", "parent"] })], [], claim("k"), true],
    ["an older sibling waiter that fits takes the parent's last slot", [held("s", 1, { accountId: "sibling", chain: ["sibling", "parent"] })], [claim("t", { accountId: "other", chain: ["other", "parent"], chainLimits: [0, 2] })], claim("k", { chainLimits: [0, 2] }), false],
  ];
  for (const [name, slots, older, mine, fits] of cases)
    test(`Should answer ${fits ? "room" : "no room"} - ${name}`, () => expect(replaySlotQueue(slots, older, mine)).toBe(fits));
});
