import { describe, expect, test } from "bun:test";
import { accountChain } from "../../../src/accounts/account-chain";
import { cliActor } from "../../../src/accounts/actor";
import { chargeCredits } from "../../../src/accounts/charge-credits";
import { sqliteAccountServices } from "../../support/sqlite-account-services";
import { tempStore } from "../../support/temp-store";

describe("account chain and credits", () => {
  test("Should list an account and every account above it, nearest first", async () => {
    using store = tempStore();
    const { accounts } = sqliteAccountServices(store.db);
    const cli = cliActor("test");
    const top = await accounts.create(cli, { name: "top" });
    const middle = await accounts.create(cli, { name: "middle", parent_id: top.id });
    const leaf = await accounts.create(cli, { name: "leaf", parent_id: middle.id });
    expect(accountChain(store.db, leaf).map((row) => row.name)).toEqual(["leaf", "middle", "top"]);
    expect(accountChain(store.db, top).map((row) => row.name)).toEqual(["top"]);
  });

  test("Should take a sub-account's cost from every wallet above it - a parent's credits bound its subtree", async () => {
    using store = tempStore();
    const { accounts } = sqliteAccountServices(store.db);
    const cli = cliActor("test");
    const top = await accounts.create(cli, { name: "top" });
    const middle = await accounts.create(cli, { name: "middle", parent_id: top.id });
    const leaf = await accounts.create(cli, { name: "leaf", parent_id: middle.id });
    await accounts.addCredits(cli, top.id, 1);
    await accounts.addCredits(cli, leaf.id, 0.5);
    store.db.transaction((tx) => chargeCredits(tx, leaf.id, 200_000));
    expect((await accounts.get(cli, top.id)).creditsMicros).toBe(800_000);
    expect((await accounts.get(cli, middle.id)).creditsMicros).toBeNull();
    expect((await accounts.get(cli, leaf.id)).creditsMicros).toBe(300_000);
  });
});
