import type { ComponentChildren } from "preact";

/** A table named `label`, in a region that scrolls sideways on narrow screens and can be scrolled by keyboard. */
export function TableWrap({ label, class: className, children }: { label: string; class?: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={`${label} (scrollable)`} tabIndex={0}>
      <table class={className} aria-label={label}>
        {children}
      </table>
    </div>
  );
}
