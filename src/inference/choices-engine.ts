import { EngineError, InvalidRequestError } from "../errors";
import { decorateEngine } from "./decorate-engine";
import type { Engine } from "./engine";
import { createEventChannel } from "./event-channel";
import type { ChoiceEnd, GenerationEvent, GenerationRequest, Usage } from "./types";

type DoneEvent = Extract<GenerationEvent, { type: "done" }>;

/**
 * OpenAI's `n`: one request, several answers. Each choice is a generation of its own on its own
 * sequence (llama.cpp batches them in one decode), and their events are merged into one stream
 * that ends with one `done`, so the decorators above count one request with every choice's tokens.
 *
 * Sequences for one request are taken one after another under a per-model lock: two requests that
 * each held part of what they need would otherwise wait on each other until their deadlines.
 * Single-choice requests never take the lock, and they always finish, so a waiting choice gets a
 * sequence.
 */
export function createChoicesEngine(inner: Engine): Engine {
  const acquiring = new Map<string, Promise<unknown>>();

  function assertRunnable(request: GenerationRequest, count: number) {
    const status = inner.models().find((model) => model.id === request.model);
    // parallel 0: an upstream, which runs the choices under its own limits.
    if (status != null && status.parallel > 0 && count > status.parallel)
      throw new InvalidRequestError(`n is ${count}, but model '${status.id}' runs at most ${status.parallel} sequences at once`, { param: "n" });
  }

  async function startAll(request: GenerationRequest, count: number): Promise<AsyncIterator<GenerationEvent>[]> {
    const started: AsyncIterator<GenerationEvent>[] = [];
    try {
      for (let index = 0; index < count; index++) {
        const seed = request.sampling.seed == null ? undefined : request.sampling.seed + index;
        const events = await inner.generate({ ...request, choices: undefined, sampling: { ...request.sampling, seed } });
        started.push(events[Symbol.asyncIterator]());
      }
      return started;
    } catch (error) {
      for (const iterator of started) void iterator.return?.();
      throw error;
    }
  }

  function merge(iterators: AsyncIterator<GenerationEvent>[], requestId: string): AsyncIterable<GenerationEvent> {
    const stopAll = () => {
      for (const iterator of iterators) void iterator.return?.().catch(() => {});
    };
    const channel = createEventChannel<GenerationEvent>(stopAll);
    const ends: (DoneEvent | undefined)[] = iterators.map(() => undefined);
    const pump = async (iterator: AsyncIterator<GenerationEvent>, choice: number) => {
      for (;;) {
        const result = await iterator.next();
        if (result.done) return;
        if (result.value.type === "done") ends[choice] = result.value;
        else channel.push({ ...result.value, choice });
      }
    };
    Promise.all(iterators.map(pump)).then(
      () => {
        if (ends.every((end) => end != null)) {
          channel.push(mergedDone(ends as DoneEvent[]));
          channel.end();
        } else channel.fail(new EngineError(requestId));
      },
      (error: unknown) => {
        stopAll();
        channel.fail(error);
      },
    );
    return channel;
  }

  return decorateEngine(inner, {
    async generate(request) {
      const count = request.choices ?? 1;
      if (count <= 1) return inner.generate(request);
      assertRunnable(request, count);
      const before = acquiring.get(request.model) ?? Promise.resolve();
      const turn = before.then(() => startAll(request, count));
      const settled = turn.catch(() => {});
      acquiring.set(request.model, settled);
      void settled.then(() => {
        if (acquiring.get(request.model) === settled) acquiring.delete(request.model);
      });
      return merge(await turn, request.requestId);
    },
  });
}

/** One `done` for all choices: choice 0's end as its own fields, the prompt counted once, the completions summed. */
function mergedDone(ends: DoneEvent[]): DoneEvent {
  const choices: ChoiceEnd[] = ends.map(({ finishReason, toolCalls, stopSequence }) => ({ finishReason, toolCalls, ...(stopSequence != null && { stopSequence }) }));
  const accepted = ends.map((end) => end.usage.draftTokensAccepted).filter((value) => value != null);
  const usage: Usage = {
    promptTokens: ends[0]!.usage.promptTokens,
    completionTokens: ends.reduce((sum, end) => sum + end.usage.completionTokens, 0),
    ...(accepted.length > 0 && { draftTokensAccepted: accepted.reduce((sum, value) => sum + value, 0) }),
  };
  return { type: "done", ...choices[0]!, usage, choices };
}
