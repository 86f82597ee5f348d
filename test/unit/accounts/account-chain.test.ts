import { describe, expect, test } from "bun:test";
import { accountChain } from "../../../src/accounts/account-chain";
import { cliActor } from "../../../src/accounts/actor";
import { sqliteAccountServices } from "../../support/sqlite-account-services";
import { tempStore } from "../../support/temp-store";

describe("account chain", () => {
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
});
