import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { storeErrorOf } from "../../../src/db/store-error-of";
import { writeWithRetry } from "../../../src/db/write-with-retry";
import { StoreBusyError, StoreUnavailableError } from "../../../src/errors";

const sqliteError = (code: string) => Object.assign(new Error("driver text that may quote a parameter"), { name: "SQLiteError", code });

describe("storeErrorOf", () => {
  test.each([
    ["SQLITE_BUSY", StoreBusyError],
    ["SQLITE_BUSY_SNAPSHOT", StoreBusyError],
    ["SQLITE_LOCKED", StoreBusyError],
    ["SQLITE_FULL", StoreUnavailableError],
    ["SQLITE_IOERR_WRITE", StoreUnavailableError],
    ["SQLITE_READONLY", StoreUnavailableError],
  ] as const)("Should map %s to a 503 - the store failed, not the request", (code, kind) => {
    const mapped = storeErrorOf(new DrizzleQueryError("insert into t values (?)", ["secret"], sqliteError(code)));
    expect(mapped).toBeInstanceOf(kind);
    expect(mapped!.status).toBe(503);
    expect(mapped!.message).not.toContain("secret");
  });

  test.each(["SQLITE_CONSTRAINT_UNIQUE", "SQLITE_ERROR"])("Should not map %s - a statement's own failure stays what it was", (code) => {
    expect(storeErrorOf(sqliteError(code))).toBeNull();
    expect(storeErrorOf(new TypeError("x"))).toBeNull();
  });
});

describe("storeErrorOf on Postgres", () => {
  const pgError = (code: string, errno?: string) => Object.assign(new Error("server text"), { name: "PostgresError", code, errno });

  test.each([
    ["ERR_POSTGRES_CONNECTION_REFUSED", undefined, StoreUnavailableError],
    ["ERR_POSTGRES_CONNECTION_CLOSED", undefined, StoreUnavailableError],
    ["ERR_POSTGRES_SERVER_ERROR", "08006", StoreUnavailableError],
    ["ERR_POSTGRES_SERVER_ERROR", "53100", StoreUnavailableError],
    ["ERR_POSTGRES_SERVER_ERROR", "57P01", StoreUnavailableError],
    ["ERR_POSTGRES_SERVER_ERROR", "25006", StoreUnavailableError],
    ["ERR_POSTGRES_SERVER_ERROR", "40001", StoreBusyError],
    ["ERR_POSTGRES_SERVER_ERROR", "40P01", StoreBusyError],
  ] as const)("Should map %s %s to a 503 - the shared store failed, so the recorder keeps the row", (code, errno, kind) => {
    expect(storeErrorOf(new DrizzleQueryError("insert into t values ($1)", ["secret"], pgError(code, errno)))).toBeInstanceOf(kind);
  });

  test.each(["23505", "22012", "42P01"])("Should not map SQLSTATE %s - a statement's own failure stays what it was", (errno) => {
    expect(storeErrorOf(pgError("ERR_POSTGRES_SERVER_ERROR", errno))).toBeNull();
  });
});

describe("writeWithRetry", () => {
  test("Should retry a write that met SQLITE_BUSY - and return its result once it gets the lock", () => {
    let tries = 0;
    const result = writeWithRetry(() => {
      if (++tries < 3) throw sqliteError("SQLITE_BUSY");
      return "written";
    }, 1000);
    expect({ result, tries }).toEqual({ result: "written", tries: 3 });
  });

  test("Should throw StoreBusyError past the deadline - and rethrow any other error at once", () => {
    let tries = 0;
    const busy = () => {
      tries++;
      throw sqliteError("SQLITE_BUSY");
    };
    expect(() => writeWithRetry(busy, 30)).toThrow(StoreBusyError);
    expect(tries).toBeGreaterThan(1);
    const broken = () => {
      throw new RangeError("no");
    };
    expect(() => writeWithRetry(broken, 1000)).toThrow(RangeError);
  });

  test("Should map a real full database to StoreUnavailableError - max_page_count stands in for a full disk", () => {
    const db = new Database(":memory:");
    db.exec("create table t (x)");
    db.exec("pragma max_page_count = 2");
    let caught: unknown;
    try {
      for (let i = 0; i < 100; i++) db.run("insert into t values (randomblob(4000))");
    } catch (error) {
      caught = error;
    }
    expect(storeErrorOf(caught)).toBeInstanceOf(StoreUnavailableError);
  });
});
