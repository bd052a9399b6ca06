import type { ComponentChildren } from 'preact'

/**
 * A table that scrolls sideways inside its own box on narrow screens (never the page), and takes
 * focus so that a keyboard can scroll it.
 */
export function ScrollTable({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1)
    <section class="table-wrap" aria-label={label} tabIndex={0}>
      {children}
    </section>
  )
}
