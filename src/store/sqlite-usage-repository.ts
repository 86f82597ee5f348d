import type { SyncDb } from "../db/sync-db";
import { writeUsageEvent } from "../metering/usage-recorder";
import { usageAggregate, type UsageRow } from "../metering/usage-report";
import { usageRelation, usageSpent, usageTotalsByKey } from "../metering/usage-source";
import type { UsageRepository } from "./usage-repository";

/** The usage aggregate on the embedded SQLite store. */
export function createSqliteUsageRepository(db: SyncDb): UsageRepository {
  return {
    async record(event) {
      return db.transaction((tx) => writeUsageEvent(tx, event));
    },
    async aggregate(filter, groupBy) {
      return db.all<UsageRow>(usageAggregate(usageRelation(filter), groupBy));
    },
    async spent(filter) {
      return usageSpent(db, filter);
    },
    async totalsByKey(keyIds) {
      return usageTotalsByKey(db, keyIds);
    },
  };
}
