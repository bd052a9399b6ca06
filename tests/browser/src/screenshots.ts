import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'

/** docs/screenshots of the repository: the tests write the pictures the README links to. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))

export const VIEWPORTS = {
  desktop: { width: 1280, height: 900 },
  phone: { width: 390, height: 844 },
} as const

/** The page at each width, saved as `<name>-desktop.png` and `<name>-phone.png`. */
export async function screenshotBoth(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport)
    // The layout settles on the next frame after a resize.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(undefined))))
    await page.screenshot({ path: `${SCREENSHOT_DIR}${name}-${size}.png`, fullPage: true })
  }
  await page.setViewportSize(VIEWPORTS.desktop)
}
