/**
 * A statement drizzle builds, and SQLite compiles, on first use and never again. Building a query
 * costs drizzle ~85 µs each time against ~3 µs to run a prepared one, and every /v1 request reads
 * its key, its account and its retention policy before its first token. First use, not creation:
 * a repository may exist before the migrations that make its tables have run.
 */
export function preparedOnce<T>(prepare: () => T): () => T {
  let prepared: T | undefined;
  return () => (prepared ??= prepare());
}
