import { describe, expect, test } from "bun:test";
import { accountChain } from "../../../src/accounts/account-chain";
import { createAccountService } from "../../../src/accounts/account-service";
import { cliActor } from "../../../src/accounts/actor";
import { chargeCredits } from "../../../src/accounts/charge-credits";
import { tempStore } from "../../support/temp-store";

describe("account chain and credits", () => {
  test("Should list an account and every account above it, nearest first", () => {
    using store = tempStore();
    const accounts = createAccountService({ db: store.db });
    const cli = cliActor("test");
    const top = accounts.create(cli, { name: "top" });
    const middle = accounts.create(cli, { name: "middle", parent_id: top.id });
    const leaf = accounts.create(cli, { name: "leaf", parent_id: middle.id });
    expect(accountChain(store.db, leaf).map((row) => row.name)).toEqual(["leaf", "middle", "top"]);
    expect(accountChain(store.db, top).map((row) => row.name)).toEqual(["top"]);
  });

  test("Should take a sub-account's cost from every wallet above it - a parent's credits bound its subtree", () => {
    using store = tempStore();
    const accounts = createAccountService({ db: store.db });
    const cli = cliActor("test");
    const top = accounts.create(cli, { name: "top" });
    const middle = accounts.create(cli, { name: "middle", parent_id: top.id });
    const leaf = accounts.create(cli, { name: "leaf", parent_id: middle.id });
    accounts.addCredits(cli, top.id, 1);
    accounts.addCredits(cli, leaf.id, 0.5);
    store.db.transaction((tx) => chargeCredits(tx, leaf.id, 200_000));
    expect(accounts.get(cli, top.id).creditsMicros).toBe(800_000);
    expect(accounts.get(cli, middle.id).creditsMicros).toBeNull();
    expect(accounts.get(cli, leaf.id).creditsMicros).toBe(300_000);
  });
});
