import type { Actor } from "../../accounts/actor";
import { accountScopeOf } from "../../store/account-scope";
import type { UsageRepository } from "../../store/usage-repository";
import type { ModelStatus } from "../../inference/types";

export interface ServerStatusDeps {
  usage: Pick<UsageRepository, "traffic">;
  models: () => ModelStatus[];
  version: string;
  /** Milliseconds since the epoch when the server started; for uptime. */
  startedAt: number;
  now: () => number;
}

/** The window the recent counters cover, and the width of one point of the per-minute series. */
export const RECENT_WINDOW_SECONDS = 300;
export const SERIES_MINUTES = 30;

/**
 * What the console's overview shows: the models with their sequences, queue and speculative
 * decoding state, and recent traffic (requests, error rate, tokens/s) from the metering table,
 * over the accounts the caller may see. Metadata only: metering rows hold no content.
 */
export async function serverStatus(deps: ServerStatusDeps, actor: Actor) {
  const now = deps.now();
  const firstMinute = Math.floor(now / 60_000) - (SERIES_MINUTES - 1);
  const { recent, minutes } = await deps.usage.traffic(accountScopeOf(actor), now - RECENT_WINDOW_SECONDS * 1000, firstMinute * 60_000);
  const byMinute = new Map(minutes.map((row) => [row.minute, row]));

  return {
    object: "status" as const,
    version: deps.version,
    uptime_seconds: Math.max(0, Math.round((now - deps.startedAt) / 1000)),
    caller: { key_id: actor.keyId, role: actor.role, account_id: actor.accountId },
    models: deps.models().map((model) => ({
      id: model.id,
      default: model.isDefault,
      state: model.state,
      context_size: model.contextSize,
      parallel: model.parallel,
      busy_sequences: model.busySequences,
      queue_depth: model.queueDepth,
      speculative: {
        mode: model.speculative.mode,
        active: model.speculative.active,
        acceptance: model.speculative.acceptance,
        draft_tokens_proposed: model.speculative.draftTokensProposed,
        draft_tokens_accepted: model.speculative.draftTokensAccepted,
      },
      /** Sequences holding a scope's cached prefix and the KV cells they fill, and the prefixes kept in RAM; null where the model keeps no cache (an upstream). */
      prompt_cache:
        model.promptCache == null
          ? null
          : {
              scope: model.promptCache.scope,
              cached_sequences: model.promptCache.sequences,
              cached_tokens: model.promptCache.tokens,
              ram_prefixes: model.promptCache.ramPrefixes,
              ram_bytes: model.promptCache.ramBytes,
            },
    })),
    recent: {
      window_seconds: RECENT_WINDOW_SECONDS,
      requests: recent.requests,
      errors: recent.errors,
      error_rate: recent.requests > 0 ? recent.errors / recent.requests : null,
      client_errors: recent.client_errors,
      server_errors: recent.server_errors,
      /** 4xx answers / requests: bad requests, limits, unknown models. */
      client_error_rate: recent.requests > 0 ? recent.client_errors / recent.requests : null,
      /** 5xx answers / requests: engine faults, overload, timeouts. */
      server_error_rate: recent.requests > 0 ? recent.server_errors / recent.requests : null,
      completion_tokens: recent.completion_tokens,
      /** Completion tokens per second of generation, averaged over the requests that produced tokens. */
      tokens_per_second: recent.generating_ms > 0 ? round2((recent.completion_tokens * 1000) / recent.generating_ms) : null,
      /** Completion tokens per second of wall-clock time over the window. */
      throughput_tokens_per_second: round2(recent.completion_tokens / RECENT_WINDOW_SECONDS),
    },
    /** One point per minute, oldest first, the current minute last; minutes without traffic are zeros. */
    per_minute: Array.from({ length: SERIES_MINUTES }, (_, i) => {
      const at = firstMinute + i;
      const row = byMinute.get(at);
      return {
        at: new Date(at * 60_000).toISOString(),
        requests: row?.requests ?? 0,
        errors: row?.errors ?? 0,
        client_errors: row?.client_errors ?? 0,
        server_errors: row?.server_errors ?? 0,
        completion_tokens: row?.completion_tokens ?? 0,
      };
    }),
  };
}

export type ServerStatus = Awaited<ReturnType<typeof serverStatus>>;

const round2 = (value: number) => Math.round(value * 100) / 100;
