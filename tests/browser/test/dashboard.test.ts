import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ObjectInfoSchema, UiLinkSchema } from '@cas/api'
import { ApiError } from '@cas/api/client'
import { type ClusterNode, casBinPath, LocalCluster, until, writeSeededFile } from '@cas/test-kit'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seriousViolations } from '../src/accessibility.js'
import { chromiumPath, launchChromium } from '../src/chromium.js'
import { screenshotBoth, VIEWPORTS } from '../src/screenshots.js'

const run = promisify(execFile)
const CHROMIUM = chromiumPath()
// CI installs Chromium (.ci/run); a machine without it says so here rather than pass in silence.
if (!CHROMIUM && process.env.CI) throw new Error('Chromium is not installed: .ci/run installs it with apt')
const suite = CHROMIUM ? describe : describe.skip
if (!CHROMIUM) console.warn('SKIPPED: the dashboard browser tests need Chromium (apt-get install chromium)')

/** Repair waits this long before replacing a holder that went away: the page must show it sooner. */
const REPAIR_GRACE_S = 60
const FILE_SIZE = 48 * 1024 * 1024

let cluster: LocalCluster
let node: ClusterNode
let browser: Browser
let context: BrowserContext
let page: Page
let work: string
let filePath: string
let fileSha: string

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function nodeIdOf(n: ClusterNode): string {
  return n.process.info.nodeId
}

suite('the dashboard in Chromium', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cas-browser-'))
    filePath = join(work, 'holiday.bin')
    await writeSeededFile(filePath, 'dashboard', FILE_SIZE)
    fileSha = sha256(await readFile(filePath))
    cluster = new LocalCluster({
      args: ['--replication', '2', '--repair-grace', `${REPAIR_GRACE_S}s`, '--audit-rate', '0'],
    })
    node = await cluster.add()
    for (let i = 0; i < 3; i++) await cluster.add()
    await until(
      'the first node to see its 3 peers',
      async () => (await LocalCluster.connectedPeers(node)) === 3,
      30_000,
    )
    browser = await launchChromium(CHROMIUM as string)
    // bypassCSP lets the accessibility check inject axe-core; the app itself runs under its CSP.
    context = await browser.newContext({
      viewport: VIEWPORTS.desktop,
      acceptDownloads: true,
      bypassCSP: true,
    })
    page = await context.newPage()
  })

  afterAll(async () => {
    await browser?.close()
    await cluster?.stop()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('refuses a wrong token, then signs in and shows the 3 peers', async () => {
    await page.goto(node.process.info.api)
    await page.getByLabel('API token').waitFor()
    expect(await seriousViolations(page), 'the sign-in page').toEqual([])
    await page.getByLabel('API token').fill('not-the-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    const alert = page.getByRole('alert')
    await alert.waitFor()
    expect(await alert.textContent()).toContain('refused')
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)

    await page.getByLabel('API token').fill(node.token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForFunction(
      () => document.querySelector('[data-testid="peers-connected"]')?.textContent?.trim() === '3',
    )
    expect(await page.title()).toBe('Overview · cas')
    // The token lives in this tab's session only.
    expect(await page.evaluate(() => localStorage.length)).toBe(0)
  })

  it('uploads a file through the file input with progress, and shows it with 2 live replicas', async () => {
    await page.getByRole('link', { name: 'Files' }).click()
    await page.getByRole('heading', { name: 'Files', level: 1 }).waitFor()
    // Samples the progress bar as the page draws it, from inside the page.
    await page.evaluate(() => {
      const seen: number[] = []
      ;(globalThis as unknown as { progressSeen: number[] }).progressSeen = seen
      const timer = setInterval(() => {
        const bar = document.querySelector<HTMLProgressElement>(
          'progress[aria-label="Uploading holiday.bin"]',
        )
        if (bar) seen.push(bar.value)
        if (document.querySelector('[data-upload="holiday.bin"][data-state="done"]')) clearInterval(timer)
      }, 10)
    })
    await page.getByLabel('Upload files').setInputFiles(filePath)
    await page.locator('[data-upload="holiday.bin"][data-state="done"]').waitFor({ timeout: 60_000 })
    const seen = await page.evaluate(() => (globalThis as unknown as { progressSeen: number[] }).progressSeen)
    expect(
      seen.some((v) => v > 0 && v < 100),
      `progress seen: ${seen.join(',')}`,
    ).toBe(true)

    const row = page.locator('tr[data-name="holiday.bin"]')
    await row.waitFor()
    const replicas = row.locator('[data-testid="replicas"]')
    await page.waitForFunction(
      () =>
        document
          .querySelector('tr[data-name="holiday.bin"] [data-testid="replicas"]')
          ?.getAttribute('data-live') === '2',
    )
    expect(await replicas.getAttribute('data-wanted')).toBe('2')
    expect(await row.locator('[data-holder][data-state="live"]').count()).toBe(2)
  })

  it('downloads the file with the same bytes', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download holiday.bin' }).click(),
    ])
    expect(download.suggestedFilename()).toBe('holiday.bin')
    const saved = join(work, 'downloaded.bin')
    await download.saveAs(saved)
    expect(sha256(await readFile(saved))).toBe(fileSha)
  })

  it('shares the file: the capability it shows reads the object on another node', async () => {
    await page.getByRole('button', { name: 'Share holiday.bin' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.waitFor()
    const capability = (await dialog.getByTestId('capability').textContent())?.trim() ?? ''
    expect(capability.startsWith('cas-cap2:')).toBe(true)
    expect(await seriousViolations(page), 'the share dialog').toEqual([])
    const other = cluster.nodes[3] as ClusterNode
    const res = await other.client.send('HEAD', `/v1/objects/${encodeURIComponent(capability)}`)
    res.resume()
    expect(Number(res.headers['x-cas-size'])).toBe(FILE_SIZE)
    await dialog.getByRole('button', { name: 'Close' }).click()
    await dialog.waitFor({ state: 'hidden' })
  })

  it('shows every page at desktop and phone width with no serious or critical accessibility violation', async () => {
    // A folder too, so that the Files page shows a snapshot.
    const album = join(work, 'album')
    await mkdir(album)
    await writeFile(join(album, 'a.txt'), 'a')
    await writeFile(join(album, 'b.txt'), 'bb')
    await run(process.execPath, [casBinPath(), '--home', node.home, '--quiet', 'put', '-r', album])
    const pages = [
      ['overview', 'Overview'],
      ['files', 'Files'],
      ['peers', 'Peers'],
      ['activity', 'Activity'],
    ] as const
    for (const [name, title] of pages) {
      await page.getByRole('link', { name: title }).click()
      await page.getByRole('heading', { name: title, level: 1 }).waitFor()
      if (name === 'files') await page.locator('tr[data-snapshot]').first().waitFor()
      if (name === 'peers') await page.locator('tr[data-peer][data-connected="true"]').nth(2).waitFor()
      for (const viewport of Object.values(VIEWPORTS)) {
        await page.setViewportSize(viewport)
        expect(await seriousViolations(page), `${name} at ${viewport.width}px`).toEqual([])
        // Nothing wider than the window on a phone: tables scroll inside their own box.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        expect(overflow, `${name} at ${viewport.width}px`).toBeLessThanOrEqual(0)
      }
      await screenshotBoth(page, name)
    }
    await page.goto(`${node.process.info.api}/#/overview`)
  })

  it('shows a killed holder as down on the Files and Peers pages within the repair grace', async () => {
    const info = ObjectInfoSchema.parse(
      await node.client.json(ObjectInfoSchema, 'GET', '/v1/objects/holiday.bin/stat'),
    )
    const holderId = info.holders[0]?.nodeId as string
    const holder = cluster.nodes.find((n) => nodeIdOf(n) === holderId) as ClusterNode
    const killedAt = Date.now()
    holder.process.child.kill('SIGKILL')

    await page.getByRole('link', { name: 'Files' }).click()
    await page
      .locator(`tr[data-name="holiday.bin"] [data-holder="${holderId}"][data-state="down"]`)
      .waitFor({ timeout: REPAIR_GRACE_S * 1000 })
    await page.getByRole('link', { name: 'Peers' }).click()
    await page
      .locator(`tr[data-peer="${holderId}"][data-connected="false"]`)
      .waitFor({ timeout: REPAIR_GRACE_S * 1000 })
    expect(Date.now() - killedAt).toBeLessThan(REPAIR_GRACE_S * 1000)
  })

  it('deletes the file after a confirmation', async () => {
    await page.getByRole('link', { name: 'Files' }).click()
    await page.getByRole('button', { name: 'Delete holiday.bin' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.waitFor()
    expect(await seriousViolations(page), 'the delete dialog').toEqual([])
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click()
    await page.locator('tr[data-name="holiday.bin"]').waitFor({ state: 'detached' })
    await expect(
      node.client.json(ObjectInfoSchema, 'GET', '/v1/objects/holiday.bin/stat'),
    ).rejects.toBeInstanceOf(ApiError)
  })

  it('signs in through the one-time link of cas ui, which works once', async () => {
    const { stdout } = await run(process.execPath, [
      casBinPath(),
      '--home',
      node.home,
      '--json',
      'ui',
      '--no-open',
    ])
    const link = UiLinkSchema.parse(JSON.parse(stdout))
    const fresh = await browser.newContext({ viewport: VIEWPORTS.desktop })
    try {
      const tab = await fresh.newPage()
      await tab.goto(link.url)
      await tab.getByRole('heading', { name: 'Overview', level: 1 }).waitFor()
      expect(new URL(tab.url()).hash).not.toContain('code=')
      const other = await browser.newContext({ viewport: VIEWPORTS.desktop })
      try {
        const second = await other.newPage()
        await second.goto(link.url)
        await second.getByRole('alert').waitFor()
        expect(await second.getByLabel('API token').isVisible()).toBe(true)
      } finally {
        await other.close()
      }
    } finally {
      await fresh.close()
    }
  })
})
