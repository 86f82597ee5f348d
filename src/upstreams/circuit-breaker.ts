export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit; default 3. */
  failureThreshold?: number;
  /** How long an open circuit refuses calls before letting one trial through; default 30 s. */
  cooldownMs?: number;
  /** Milliseconds, injected so tests need not wait; default Date.now. */
  now?: () => number;
  onStateChange?: (state: CircuitState) => void;
}

/**
 * One backend's health as its callers saw it. Closed: calls go out. After `failureThreshold`
 * consecutive failures it opens: calls are refused at once, with no connection attempt, until
 * `cooldownMs` has passed. Then it is half-open: exactly one trial call may go out; its success
 * closes the circuit, its failure opens it for another cooldown.
 */
export interface CircuitBreaker {
  readonly state: CircuitState;
  /** Whether a call could go out now (without taking the half-open trial). */
  canAttempt(): boolean;
  /** Takes permission for one call: false while open, or half-open with its trial already out. */
  tryAcquire(): boolean;
  /** The backend answered as a healthy backend does (client errors included). */
  success(): void;
  /** The backend could not be reached, failed, or broke off. */
  failure(): void;
  /** An admitted call ended with no verdict on the backend's health (the client went away, overload). */
  release(): void;
  /** Seconds until a call may go out again; 0 when one may now. */
  retryAfterSeconds(): number;
}

export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const threshold = options.failureThreshold ?? 3;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const now = options.now ?? Date.now;
  let state: CircuitState = "closed";
  let failures = 0;
  let openedAt = 0;
  let trialOut = false;

  const become = (next: CircuitState) => {
    if (next === state) return;
    state = next;
    options.onStateChange?.(next);
  };
  const current = (): CircuitState => {
    if (state === "open" && now() - openedAt >= cooldownMs) {
      trialOut = false;
      become("half-open");
    }
    return state;
  };
  const open = () => {
    openedAt = now();
    trialOut = false;
    become("open");
  };

  return {
    get state() {
      return current();
    },
    canAttempt() {
      const at = current();
      return at === "closed" || (at === "half-open" && !trialOut);
    },
    tryAcquire() {
      const at = current();
      if (at === "closed") return true;
      if (at === "open" || trialOut) return false;
      trialOut = true;
      return true;
    },
    success() {
      failures = 0;
      trialOut = false;
      if (current() !== "closed") become("closed");
    },
    failure() {
      const at = current();
      if (at === "open") return;
      if (at === "half-open") return open();
      failures++;
      if (failures >= threshold) open();
    },
    release() {
      trialOut = false;
    },
    retryAfterSeconds() {
      const at = current();
      if (at === "closed" || (at === "half-open" && !trialOut)) return 0;
      // A half-open circuit whose trial is out will know within a request's time; say one second.
      if (at === "half-open") return 1;
      return Math.max(1, Math.ceil((openedAt + cooldownMs - now()) / 1000));
    },
  };
}
