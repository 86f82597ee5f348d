import { useRef, useState } from "preact/hooks";
import { ApiError, type ChatMessage, type ChatStreamResult } from "../api-client";
import type { ModelList, RetentionSummary, ServerStatus } from "../api-types";
import { ErrorNote } from "../components/notices";
import { formatNumber } from "../format";
import { renderMarkdown } from "../markdown";
import { runSpread, type RunSpread } from "../run-spread";
import { useSession } from "../session-context";
import { useAsync } from "../use-async";

interface Turn {
  role: "user" | "assistant";
  content: string;
  /** A reasoning model's thoughts, shown folded above its answer. */
  reasoning?: string;
  stats?: string;
}

/** Every run of each mode, in the order they ran. */
interface Comparison {
  on: ChatStreamResult[];
  off: ChatStreamResult[];
}

/** Runs per mode by default: enough for a median and a range, few enough to wait for. */
const DEFAULT_RUNS = 5;
const MAX_RUNS = 20;

/**
 * Completion tokens over the whole request, first byte sent to last token received: the browser
 * may receive a fast model's tokens in a few bursts, so the time between first and last token
 * alone can be near zero.
 */
const tokensPerSecond = (result: ChatStreamResult) => (result.completionTokens == null || result.totalMs <= 0 ? null : result.completionTokens / (result.totalMs / 1000));

function describe(result: ChatStreamResult): string {
  const rate = tokensPerSecond(result);
  return `${result.completionTokens ?? "?"} tokens in ${Math.round(result.totalMs)} ms${rate != null ? ` · ${formatNumber(rate)} tokens/s` : ""}${result.firstTokenMs != null ? ` · first token after ${Math.round(result.firstTokenMs)} ms` : ""}`;
}

/** A model's reply as rendered Markdown: renderMarkdown escapes everything first, so the reply cannot add markup of its own. */
function Reply({ text }: { text: string }) {
  return <div class="turn-text markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />;
}

function Thoughts({ text, open = false }: { text: string; open?: boolean }) {
  return (
    <details class="thoughts" open={open}>
      <summary>Thoughts</summary>
      <p class="turn-text">{text}</p>
    </details>
  );
}

/** One mode's runs: the median, the range, and each run. */
function SpreadStat({ label, runs, testId }: { label: string; runs: ChatStreamResult[]; testId: string }) {
  const spread = runSpread(runs.map(tokensPerSecond));
  return (
    <div class="stat">
      <dt>{label}</dt>
      <dd>
        <span class="stat-value" data-testid={testId}>
          {formatNumber(spread?.median)} tok/s
        </span>
        <span class="stat-note" data-testid={`${testId}-spread`}>
          median of {spread?.runs ?? 0} runs · range {formatNumber(spread?.min)}–{formatNumber(spread?.max)} tok/s
        </span>
        <span class="stat-note">each run: {runs.map((run) => formatNumber(tokensPerSecond(run))).join(", ")}</span>
      </dd>
    </div>
  );
}

/** The comparison's verdict in words: a difference inside the runs' ranges is not one. */
function verdict(on: RunSpread | null, off: RunSpread | null): string {
  if (on == null || off == null || off.median <= 0) return "Not enough runs reported token counts to compare.";
  const ratio = on.median / off.median;
  const overlap = on.min <= off.max && off.min <= on.max;
  const change = ratio >= 1 ? `${formatNumber(ratio)}× as fast` : `${formatNumber(1 / ratio)}× slower`;
  return overlap
    ? `With the draft model the median is ${change}, but the ranges overlap: the difference is within run-to-run noise. Run more times to tell.`
    : `With the draft model the median is ${change}; the ranges do not overlap.`;
}

/**
 * Chat with a model through /v1/chat/completions, streamed, with the signed-in key. The
 * conversation lives in this page's memory only. The comparison runs the last prompt several
 * times with the draft model on and with `X-Enclave-Speculative: off`, alternating which goes
 * first, and shows the median tokens/s of each with the range of the runs.
 */
export function PlaygroundPage() {
  const { api } = useSession();
  const models = useAsync(() => api.get<ModelList>("/v1/models"), [api]);
  const status = useAsync(() => api.get<ServerStatus>("/admin/status"), [api]);
  const retention = useAsync(() => api.optional<RetentionSummary>("/admin/retention").catch(() => null), [api]);
  const [model, setModel] = useState("");
  const [system, setSystem] = useState("");
  const [prompt, setPrompt] = useState("");
  const [temperature, setTemperature] = useState("0");
  const [maxTokens, setMaxTokens] = useState("256");
  const [turns, setTurns] = useState<Turn[]>([]);
  const [streaming, setStreaming] = useState<string | null>(null);
  const [thinking, setThinking] = useState("");
  const [runs, setRuns] = useState(String(DEFAULT_RUNS));
  const [progress, setProgress] = useState<string | null>(null);
  const [busy, setBusy] = useState<"chat" | "compare" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [comparison, setComparison] = useState<Comparison | null>(null);
  const abort = useRef<AbortController | null>(null);

  const modelIds = models.data?.data.map((m) => m.id) ?? [];
  const chosen = model !== "" ? model : (status.data?.models.find((m) => m.default)?.id ?? modelIds[0] ?? "");
  const speculative = status.data?.models.find((m) => m.id === chosen)?.speculative;
  const payloads = retention.data?.payloads;

  function messagesFor(history: Turn[], next: string): ChatMessage[] {
    return [...(system.trim() !== "" ? [{ role: "system" as const, content: system }] : []), ...history.map(({ role, content }) => ({ role, content })), { role: "user" as const, content: next }];
  }

  function settings(): { temperature: number; max_tokens: number } | null {
    const t = Number(temperature);
    const m = Number(maxTokens);
    if (!Number.isFinite(t) || t < 0 || t > 2) {
      setError("Temperature must be a number from 0 to 2.");
      return null;
    }
    if (!Number.isInteger(m) || m < 1) {
      setError("Max tokens must be a whole number of at least 1.");
      return null;
    }
    return { temperature: t, max_tokens: m };
  }

  async function send(event: Event) {
    event.preventDefault();
    const text = prompt.trim();
    if (text === "" || chosen === "") return;
    const options = settings();
    if (options == null) return;
    setError(null);
    setBusy("chat");
    const history = turns;
    setTurns([...history, { role: "user", content: text }]);
    setPrompt("");
    setStreaming("");
    setThinking("");
    abort.current = new AbortController();
    try {
      const result = await api.chatStream({
        model: chosen,
        messages: messagesFor(history, text),
        ...options,
        signal: abort.current.signal,
        onText: (chunk) => setStreaming((s) => (s ?? "") + chunk),
        onReasoning: (chunk) => setThinking((s) => s + chunk),
      });
      setTurns([...history, { role: "user", content: text }, { role: "assistant", content: result.text, ...(result.reasoning !== "" && { reasoning: result.reasoning }), stats: describe(result) }]);
    } catch (caught) {
      if ((caught as Error).name !== "AbortError") setError((caught as Error).message);
      setTurns([...history, { role: "user", content: text }]);
    } finally {
      setStreaming(null);
      setThinking("");
      setBusy(null);
      abort.current = null;
    }
  }

  async function compare() {
    const lastUser = [...turns].reverse().find((turn) => turn.role === "user")?.content ?? prompt.trim();
    if (lastUser === "" || chosen === "") {
      setError("Type a message first: the comparison runs it twice, with the draft model on and off.");
      return;
    }
    const options = settings();
    if (options == null) return;
    const rounds = Number(runs);
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_RUNS) {
      setError(`Runs must be a whole number from 1 to ${MAX_RUNS}.`);
      return;
    }
    setError(null);
    setBusy("compare");
    setComparison(null);
    try {
      const messages = messagesFor([], lastUser);
      const done: Comparison = { on: [], off: [] };
      for (let round = 0; round < rounds; round++) {
        // Alternating which mode goes first keeps a warming cache or a neighbour's load from favouring one.
        for (const mode of round % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
          setProgress(`run ${done.on.length + done.off.length + 1} of ${rounds * 2}`);
          done[mode].push(await api.chatStream({ model: chosen, messages, ...options, speculative: mode, onText: () => {} }));
        }
      }
      setComparison(done);
    } catch (caught) {
      setError(caught instanceof ApiError && caught.status === 400 && /speculative/i.test(caught.message) ? "This server cannot switch speculative decoding per request." : (caught as Error).message);
    } finally {
      setProgress(null);
      setBusy(null);
    }
  }

  return (
    <div class="playground">
      <p class={payloads == null || payloads === "none" ? "banner banner-ok" : "banner"} role="note">
        {payloads == null || payloads === "none" ? (
          <>
            <strong>Nothing you type here is stored on the server.</strong> Zero data retention applies: prompts and replies pass through the model and are not written to disk, the database or logs. Only metadata (token counts, timing) is
            metered against your key. The conversation lives in this page and is gone when you leave it.
          </>
        ) : (
          <>
            <strong>This server keeps payloads under its retention policy (payloads = {payloads}).</strong> Prompts and replies from accounts with recorded consent may be kept, encrypted, for the retention window. The conversation itself lives in
            this page.
          </>
        )}
      </p>
      <ErrorNote message={models.error} />
      <form class="card stack" onSubmit={send} aria-label="Chat settings and message">
        <div class="grid">
          <div class="field">
            <label for="pg-model">Model</label>
            <select id="pg-model" value={chosen} onChange={(event) => setModel(event.currentTarget.value)}>
              {modelIds.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
            {speculative != null && (
              <span class="help">
                speculative decoding: {speculative.mode === "none" ? "none" : `${speculative.mode}, ${speculative.active ? "on" : "paused"}`}
              </span>
            )}
          </div>
          <div class="field">
            <label for="pg-temperature">Temperature</label>
            <input id="pg-temperature" type="number" min={0} max={2} step={0.1} value={temperature} onInput={(event) => setTemperature(event.currentTarget.value)} />
            <span class="help">0 = greedy, the same reply every time</span>
          </div>
          <div class="field">
            <label for="pg-max-tokens">Max tokens</label>
            <input id="pg-max-tokens" type="number" min={1} step={1} value={maxTokens} onInput={(event) => setMaxTokens(event.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="pg-runs">Comparison runs</label>
            <input id="pg-runs" type="number" min={1} max={MAX_RUNS} step={1} value={runs} onInput={(event) => setRuns(event.currentTarget.value)} />
            <span class="help">per mode, draft on and off</span>
          </div>
        </div>
        <div class="field">
          <label for="pg-system">System prompt</label>
          <textarea id="pg-system" rows={2} value={system} onInput={(event) => setSystem(event.currentTarget.value)} placeholder="optional" />
        </div>

        <section aria-label="Conversation" class="conversation" aria-live="polite" aria-busy={busy === "chat"}>
          {turns.length === 0 && streaming == null && <p class="muted">No messages yet.</p>}
          {turns.map((turn, i) => (
            <div key={i} class={`turn turn-${turn.role}`}>
              <span class="turn-role">{turn.role === "user" ? "You" : "Model"}</span>
              {turn.reasoning != null && <Thoughts text={turn.reasoning} />}
              {turn.role === "user" ? <p class="turn-text">{turn.content}</p> : <Reply text={turn.content} />}
              {turn.stats != null && <span class="turn-stats small">{turn.stats}</span>}
            </div>
          ))}
          {streaming != null && (
            <div class="turn turn-assistant" data-streaming="true">
              <span class="turn-role">Model</span>
              {thinking !== "" && <Thoughts text={thinking} open />}
              {streaming === "" ? <p class="turn-text">…</p> : <Reply text={streaming} />}
            </div>
          )}
        </section>

        <div class="field">
          <label for="pg-prompt">Message</label>
          <textarea
            id="pg-prompt"
            rows={3}
            value={prompt}
            onInput={(event) => setPrompt(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) (event.currentTarget.form as HTMLFormElement | null)?.requestSubmit();
            }}
            aria-describedby="pg-prompt-help"
          />
          <span id="pg-prompt-help" class="help">
            Ctrl+Enter sends.
          </span>
        </div>
        <ErrorNote message={error} />
        <div class="buttons">
          <button type="submit" disabled={busy != null || chosen === ""}>
            {busy === "chat" ? "Generating…" : "Send"}
          </button>
          {busy === "chat" && (
            <button type="button" class="secondary" onClick={() => abort.current?.abort()}>
              Stop
            </button>
          )}
          <button type="button" class="secondary" onClick={compare} disabled={busy != null || chosen === ""}>
            {busy === "compare" ? `Comparing… ${progress ?? ""}` : "Compare draft on / off"}
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setTurns([]);
              setComparison(null);
            }}
            disabled={busy != null}
          >
            Clear conversation
          </button>
        </div>
      </form>

      {comparison != null && (
        <section class="card" aria-labelledby="compare-title">
          <h2 id="compare-title">Draft model on / off</h2>
          <p class="small muted">
            The last message, without the earlier conversation, run {comparison.on.length} times with speculative decoding forced on for the request (<code>X-Enclave-Speculative: on</code>) and {comparison.off.length} times with it off,
            one after the other, alternating which mode goes first. Greedy output is the same either way; only the speed may differ, and one run on a busy machine is noise: compare the medians and the ranges.
          </p>
          <dl class="stats">
            <SpreadStat label="Draft on" runs={comparison.on} testId="tps-on" />
            <SpreadStat label="Draft off" runs={comparison.off} testId="tps-off" />
          </dl>
          <p class="small" data-testid="compare-verdict">
            {verdict(runSpread(comparison.on.map(tokensPerSecond)), runSpread(comparison.off.map(tokensPerSecond)))}
          </p>
          {speculative?.mode === "none" && <p class="small">This model has no draft model or prompt lookup configured: both modes decode the same way.</p>}
          <p class="small">
            {[...comparison.on, ...comparison.off].every((run) => run.text === comparison.on[0]?.text)
              ? "Every run produced the same text."
              : Number(temperature) > 0
                ? "The texts differ: with temperature above 0, sampling differs between runs."
                : "The texts differ."}
          </p>
        </section>
      )}
    </div>
  );
}
