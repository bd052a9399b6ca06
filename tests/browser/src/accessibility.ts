import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'

const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

export interface Violation {
  id: string
  impact: string | null | undefined
  help: string
  nodes: number
}

/**
 * Runs axe-core on the page as it is now (WCAG 2.1 A and AA, best practices) and returns the
 * serious and critical violations. The page's CSP forbids injected scripts: the browser context
 * that calls this is made with `bypassCSP`.
 */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  await page.addScriptTag({ path: AXE_SOURCE })
  const found = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<unknown> } })
      .axe
    const result = (await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    })) as { violations: { id: string; impact?: string | null; help: string; nodes: unknown[] }[] }
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }))
  })
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}
