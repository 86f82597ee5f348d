import type { ComponentChildren } from "preact";

/**
 * A table named `label`, in a region that scrolls sideways on narrow screens and can be scrolled by
 * keyboard. `busy` marks rows that are still the previous query's while a new one loads.
 */
export function TableWrap({ label, class: className, busy = false, children }: { label: string; class?: string; busy?: boolean; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={`${label} (scrollable)`} tabIndex={0}>
      <table class={className} aria-label={label} aria-busy={busy}>
        {children}
      </table>
    </div>
  );
}
