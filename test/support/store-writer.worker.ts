/**
 * A second writer on a store, in its own thread and its own SQLite connection: it creates keys
 * and updates an account for `durationMs`, as fast as it can, and reports what it wrote and
 * every error it met (by class and code only).
 */
import { cliActor } from "../../src/accounts/actor";
import { openStore } from "../../src/db/client";
import { sqliteAccountServices } from "./sqlite-account-services";

declare const self: Worker;

export interface StoreWriterJob {
  dataDir: string;
  pepper: string;
  accountId: string;
  prefix: string;
  durationMs: number;
}

export interface StoreWriterReport {
  keysCreated: number;
  lastBudget: number;
  errors: string[];
}

self.onmessage = async (event: MessageEvent<StoreWriterJob>) => {
  const job = event.data;
  const store = openStore(job.dataDir);
  const actor = cliActor("worker");
  const { keys, accounts } = sqliteAccountServices(store.db, job.pepper);
  const report: StoreWriterReport = { keysCreated: 0, lastBudget: 0, errors: [] };
  const until = Date.now() + job.durationMs;
  for (let round = 1; Date.now() < until; round++) {
    try {
      await keys.create(actor, { name: `${job.prefix}-${round}`, account_id: job.accountId });
      report.keysCreated++;
      await accounts.update(actor, job.accountId, { budget_period: "month", budget_tokens: round });
      report.lastBudget = round;
    } catch (error) {
      report.errors.push(`${(error as Error).name}:${(error as { code?: string }).code ?? ""}`);
    }
  }
  store[Symbol.dispose]();
  self.postMessage(report);
};
