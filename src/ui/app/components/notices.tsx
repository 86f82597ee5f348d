import type { ComponentChildren } from "preact";

/** An API failure in plain words, announced to screen readers as it appears. */
export function ErrorNote({ message }: { message: string | null | undefined }) {
  if (message == null) return null;
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** One figure of the overview: a label, a value and an optional line under it. */
export function Stat({ label, value, note }: { label: string; value: ComponentChildren; note?: ComponentChildren }) {
  return (
    <div class="stat">
      <dt>{label}</dt>
      <dd>
        <span class="stat-value">{value}</span>
        {note != null && <span class="stat-note">{note}</span>}
      </dd>
    </div>
  );
}
