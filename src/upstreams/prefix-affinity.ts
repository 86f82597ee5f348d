import { createHash } from "node:crypto";
import type { GenerationRequest } from "../inference/types";

/** Conversations remembered; the oldest is forgotten first. */
const DEFAULT_CAPACITY = 10_000;
/** Characters of a text prompt that name its conversation: later turns repeat them. */
const TEXT_HEAD = 2_048;

export interface PrefixAffinity {
  /** The backend that last served this account's conversation with the same opening, if any. */
  preferred(request: GenerationRequest): string | undefined;
  remember(request: GenerationRequest, backend: string): void;
}

/**
 * Which backend holds a conversation's prompt cache. A conversation is named by its account, its
 * model and a hash of its opening (the first two chat messages, or the head of a text prompt),
 * which every later turn repeats; so turn N+1 goes where turn N left its KV cache. Only a hash
 * is kept, in memory, never the text; salted per process, so no two processes' keys compare.
 */
export function createPrefixAffinity(capacity = DEFAULT_CAPACITY): PrefixAffinity {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const backends = new Map<string, string>();

  function key(request: GenerationRequest): string | null {
    const account = request.caller?.account.id;
    // No caller, no account to keep the affinity within.
    if (account == null) return null;
    const opening = request.input.kind === "chat" ? JSON.stringify(request.input.messages.slice(0, 2)) : request.input.prompt.slice(0, TEXT_HEAD);
    return createHash("sha256").update(salt).update(account).update("\0").update(request.model).update("\0").update(opening).digest("base64url");
  }

  return {
    preferred(request) {
      const at = key(request);
      return at == null ? undefined : backends.get(at);
    },
    remember(request, backend) {
      const at = key(request);
      if (at == null) return;
      backends.delete(at);
      backends.set(at, backend);
      if (backends.size > capacity) backends.delete(backends.keys().next().value!);
    },
  };
}
