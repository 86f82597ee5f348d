import { describe, expect, test } from "bun:test";
import { osUserName } from "../../../src/cli/os-user-name";

const unknown = () => ({ username: "unknown", uid: 1000 });
const throws = () => {
  throw new Error("no passwd entry");
};

describe("osUserName", () => {
  test.each([
    ["os.userInfo() when it knows the name", () => ({ username: "alice", uid: 1000 }), { USER: "bob" }, 1000, "alice"],
    ["$USER when os.userInfo() says unknown (Bun)", unknown, { USER: "bob", LOGNAME: "carol" }, 1000, "bob"],
    ["$LOGNAME when $USER is unset", unknown, { LOGNAME: "carol" }, 1000, "carol"],
    ["the uid when no name is known", unknown, {}, 1000, "uid:1000"],
    ["the login variables when os.userInfo() throws", throws, { USER: "dave" }, 0, "dave"],
  ] as const)("Should take %s", (_, userInfo, env, uid, expected) => {
    expect(osUserName({ userInfo, env, uid: () => uid })).toBe(expected);
  });
});
