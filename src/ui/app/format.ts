const integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });

export const formatInt = (value: number | null | undefined) => (value == null ? "—" : integer.format(value));
export const formatNumber = (value: number | null | undefined) => (value == null ? "—" : decimal.format(value));
export const formatPercent = (value: number | null | undefined) => (value == null ? "—" : `${(value * 100).toFixed(1)} %`);
export const formatMoney = (value: number | null | undefined, currency: string) =>
  value == null ? "—" : `${new Intl.NumberFormat("en", { maximumFractionDigits: 6 }).format(value)} ${currency}`;

/** "2025-03-01 14:05" in the browser's time zone; "never" for null. */
export function formatTime(iso: string | null | undefined, never = "never"): string {
  if (iso == null) return never;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** YYYY-MM-DD of a Date in UTC, as <input type="date"> and the usage API use it. */
export const isoDay = (date: Date) => date.toISOString().slice(0, 10);
