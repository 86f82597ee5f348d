import type { Database } from "bun:sqlite";

export interface ReclaimReport {
  /** "full" the first time (switching the store to incremental auto-vacuum), then "incremental". */
  vacuum: "full" | "incremental";
  /** "truncated": the WAL is empty; "busy": a reader still holds old frames (the next purge retries). */
  wal: "truncated" | "busy";
  free_pages: number;
}

/**
 * After a purge's deletes: secure_delete has already zeroed the deleted cells, so this gives the
 * freed pages back to the file system (incremental vacuum; the first time a full VACUUM switches
 * the store to incremental auto-vacuum) and truncates the WAL, whose frames still hold the
 * pre-delete page images. Temp storage is kept in memory so VACUUM writes no temp file.
 */
export function reclaimSpace(sqlite: Database): ReclaimReport {
  sqlite.exec("PRAGMA temp_store = MEMORY");
  const { auto_vacuum } = sqlite.query("PRAGMA auto_vacuum").get() as { auto_vacuum: number };
  let vacuum: ReclaimReport["vacuum"] = "incremental";
  if (auto_vacuum !== 2) {
    sqlite.exec("PRAGMA auto_vacuum = INCREMENTAL");
    sqlite.exec("VACUUM");
    vacuum = "full";
  } else sqlite.exec("PRAGMA incremental_vacuum");
  const checkpoint = sqlite.query("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number; log: number; checkpointed: number };
  const { freelist_count } = sqlite.query("PRAGMA freelist_count").get() as { freelist_count: number };
  return { vacuum, wal: checkpoint.busy === 0 ? "truncated" : "busy", free_pages: freelist_count };
}
