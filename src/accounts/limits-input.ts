import { z } from "zod";

/** Limit fields shared by accounts and keys. Omitted: unchanged (or the config default); null: back to the config default. */
export const budgetFields = {
  concurrency: z.number().int().min(1).max(10_000).nullable().optional().describe("in-flight requests at once; null: the [limits] default"),
  budget_period: z.enum(["day", "month"]).nullable().optional().describe("budget window, UTC calendar day or month"),
  budget_tokens: z.number().int().min(1).nullable().optional().describe("prompt + completion tokens allowed per budget period"),
  budget_cost: z.number().min(0).nullable().optional().describe("cost allowed per budget period, in the pricing currency"),
};

export const MICROS = 1_000_000;

export function toMicros(amount: number | null | undefined): number | null | undefined {
  return amount == null ? amount : Math.round(amount * MICROS);
}

export function fromMicros(micros: number | null): number | null {
  return micros == null ? null : micros / MICROS;
}
