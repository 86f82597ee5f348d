import { basename } from "node:path";
import type { Config } from "../config/schema";
import type { ModelStatus } from "../inference/types";
import type { Logger } from "../logging/logger";

export interface StartupSummary {
  config: Readonly<Config>;
  logger: Pick<Logger, "info" | "warn">;
  url: URL;
  /** The engine's view of the models (with upstreams: theirs too; only configured ones are listed here). */
  models: readonly ModelStatus[];
  /** API keys in the store, revoked ones included: none means a fresh store. */
  keyCount: number;
}

/**
 * What an admin needs once the server listens: where to point a client, each configured model
 * with its context, sequences and draft (the engine adds backend, GPU layers and VRAM when a
 * model loads), and on a fresh store the next step. Each message states the facts; the same
 * facts are fields for JSON lines.
 */
export function logStartupSummary({ config, logger, url, models, keyCount }: StartupSummary): void {
  const at = (path: string) => new URL(path, url).href;
  const urls = {
    api: at("/v1"),
    health: at("/health"),
    ...(config.ui.enabled && { console: at("/ui") }),
    ...(config.metrics.enabled && { metrics: at(config.metrics.path) }),
  };
  logger.info({ url: url.origin, tls: config.server.tls != null, ...urls }, `listening on ${url.origin}: ${Object.entries(urls).map(([name, href]) => `${name} ${href}`).join(", ")}`);

  for (const model of config.models) {
    const status = models.find((candidate) => candidate.id === model.id);
    const isDefault = status?.isDefault ?? model.default;
    const mode = status?.speculative.mode ?? "none";
    const draft = mode === "draft" && model.draft != null ? `draft ${basename(model.draft.path)}` : mode === "lookup" ? "prompt-lookup drafting" : "no draft";
    logger.info(
      { model: model.id, default: isDefault, contextSize: model.context_size, sequences: model.parallel, speculative: mode, draft: mode === "draft" ? (model.draft?.path ?? null) : null },
      `model ${model.id}${isDefault ? " (default, loading now)" : " (loads on first use)"}: context ${model.context_size} x ${model.parallel} sequences, ${draft}`,
    );
  }

  if (keyCount === 0) logger.warn({ keys: 0 }, "no keys yet: run `enclave keys create --role admin`");
}
