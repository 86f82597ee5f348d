export interface RunSpread {
  runs: number;
  median: number;
  min: number;
  max: number;
}

/**
 * The middle and the range of repeated measurements (tokens/s of several runs): one run on a
 * shared machine is noise, so the comparison shows where the runs fell, not one sample. Null for
 * no runs; values that are not finite numbers (a run without a token count) are left out.
 */
export function runSpread(values: (number | null)[]): RunSpread | null {
  const sorted = values.filter((value): value is number => value != null && Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { runs: sorted.length, median, min: sorted[0]!, max: sorted.at(-1)! };
}
