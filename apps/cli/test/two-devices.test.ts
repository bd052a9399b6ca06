import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ObjectListSchema } from '@cas/api'
import { LocalCluster } from '@cas/test-kit'
import { afterAll, describe, expect, it } from 'vitest'
import { EXIT_USAGE, InitResultSchema } from '../src/index.js'
import { cas, waitFor } from './helpers/cluster.js'

/**
 * Issue 15, item 2 with real processes: a laptop and a desktop of one owner change the catalogue
 * while partitioned (each side with a holder of its own, never up while the other side works), then
 * meet again: both list the same catalogue, every addition of either side is there, and a name
 * written on both sides lists both objects until it is written again.
 */

const cluster = new LocalCluster({ args: ['--replication', '2', '--catalogue-sync-interval', '1s'] })
afterAll(() => cluster.stop(), 60_000)

type Listing = { cid: string; names: string[] }[]

async function listing(env: NodeJS.ProcessEnv): Promise<Listing> {
  const r = await cas(['--json', 'ls'], { env })
  return ObjectListSchema.parse(JSON.parse(r.text))
    .map((o) => ({ cid: o.cid, names: [...o.names].sort() }))
    .sort((a, b) => a.cid.localeCompare(b.cid))
}

/** Until this device's ops are all in a segment whose head a peer took. */
async function published(env: NodeJS.ProcessEnv): Promise<void> {
  await waitFor(async () => {
    const s = JSON.parse((await cas(['--json', 'status'], { env })).text) as {
      catalogue: { unpublished: number; headHolders: number; publishing: boolean }
    }
    const done = s.catalogue.unpublished === 0 && !s.catalogue.publishing && s.catalogue.headHolders >= 1
    return done ? true : undefined
  }, 30_000)
}

async function put(env: NodeJS.ProcessEnv, dir: string, name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, `src-${randomBytes(4).toString('hex')}`)
  await writeFile(path, bytes)
  const r = await cas(['put', path, '--name', name], { env })
  expect(r.code, r.stderr).toBe(0)
  return r.text
}

async function ok(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const r = await cas(args, { env })
  expect(r.code, `cas ${args.join(' ')}: ${r.stderr}`).toBe(0)
}

/**
 * One side's changes while apart: adds `<side>.txt`, renames one base file, deletes another, writes
 * `same.txt` (as the other side does), and waits until they are published.
 */
async function workApart(
  env: NodeJS.ProcessEnv,
  dir: string,
  side: string,
  rename: [string, string],
  remove: string,
): Promise<{ bytes: Buffer; cid: string; same: string; listing: Listing }> {
  const bytes = randomBytes(4_000)
  const cid = await put(env, dir, `${side}.txt`, bytes)
  await ok(['mv', ...rename], env)
  await ok(['rm', remove], env)
  const same = await put(env, dir, 'same.txt', randomBytes(500))
  await published(env)
  return { bytes, cid, same, listing: await listing(env) }
}

const named = (list: Listing) => list.flatMap((o) => o.names.map((n) => `${n} ${o.cid.slice(0, 8)}`)).sort()

describe('two machines of one owner', () => {
  it('change the catalogue apart, then converge without losing either side; a name written on both lists both', async () => {
    const dir = await cluster.dir()
    const laptopEnv = { CAS_HOME: join(dir, 'laptop') }
    const desktopEnv = { CAS_HOME: join(dir, 'desktop') }
    const init = InitResultSchema.parse(JSON.parse((await cas(['--json', 'init'], { env: laptopEnv })).text))
    const recovered = await cas(['init', '--recover'], {
      env: desktopEnv,
      input: Buffer.from(init.recoveryPhrase ?? ''),
    })
    expect(recovered.code).toBe(0)
    let h1 = await cluster.add({ name: 'h1' })
    let h2 = await cluster.add({ name: 'h2' })
    let laptop = await cluster.add({ name: 'laptop' })
    let desktop = await cluster.add({ name: 'desktop' })

    // Together: the laptop stores four files; the desktop sees them.
    const base: Record<string, string> = {}
    for (const n of ['a', 'b', 'c', 'd'])
      base[n] = await put(laptopEnv, dir, `base-${n}.txt`, randomBytes(3_000))
    await published(laptopEnv)
    await waitFor(async () => ((await listing(desktopEnv)).length === 4 ? true : undefined), 30_000)

    // Apart. Side B (desktop, h2) is down while side A (laptop, h1) works, then the other way round.
    await Promise.all([desktop.process.stop(), h2.process.stop()])
    const laptopSide = await workApart(laptopEnv, dir, 'laptop', ['base-a.txt', 'a-laptop.txt'], 'base-b.txt')
    await Promise.all([laptop.process.stop(), h1.process.stop()])

    h2 = await cluster.restart(h2, { bootstrap: [] })
    desktop = await cluster.restart(desktop, { bootstrap: [h2.p2p] })
    const desktopSide = await workApart(
      desktopEnv,
      dir,
      'desktop',
      ['base-c.txt', 'c-desktop.txt'],
      'base-d.txt',
    )
    const { bytes: laptopOnly, cid: laptopCid, same: sameL } = laptopSide
    const { bytes: desktopOnly, cid: desktopCid, same: sameD } = desktopSide
    // Neither side has seen the other's changes.
    expect(named(desktopSide.listing)).not.toContain(`laptop.txt ${laptopCid.slice(0, 8)}`)
    expect(named(laptopSide.listing)).not.toContain(`desktop.txt ${desktopCid.slice(0, 8)}`)

    // Together again.
    const healed = Date.now()
    h1 = await cluster.restart(h1)
    laptop = await cluster.restart(laptop)
    const both = await waitFor(async () => {
      const [l, d] = await Promise.all([listing(laptopEnv), listing(desktopEnv)])
      return JSON.stringify(l) === JSON.stringify(d) && named(l).some((n) => n.startsWith('desktop.txt'))
        ? l
        : undefined
    }, 60_000)
    const convergedMs = Date.now() - healed
    const short = (cid: string) => cid.slice(0, 8)
    expect(named(both)).toEqual(
      [
        `a-laptop.txt ${short(base.a as string)}`,
        `c-desktop.txt ${short(base.c as string)}`,
        `desktop.txt ${short(desktopCid)}`,
        `laptop.txt ${short(laptopCid)}`,
        `same.txt ${short(sameL)}`,
        `same.txt ${short(sameD)}`,
      ].sort(),
    )
    // The conflict is visible: the name is ambiguous and lists both, until it is written again.
    for (const env of [laptopEnv, desktopEnv]) {
      const r = await cas(['get', 'same.txt'], { env })
      expect(r.code).toBe(EXIT_USAGE)
      expect(r.stderr).toContain(sameL)
      expect(r.stderr).toContain(sameD)
    }
    // Each side's additions, with their bytes, on the other.
    expect((await cas(['get', 'laptop.txt'], { env: desktopEnv })).stdout.equals(laptopOnly)).toBe(true)
    expect((await cas(['get', 'desktop.txt'], { env: laptopEnv })).stdout.equals(desktopOnly)).toBe(true)
    // Written again on one side, the name names one object on both.
    await ok(['mv', sameD, 'same.txt'], laptopEnv)
    await waitFor(async () => {
      const d = await listing(desktopEnv)
      return d.filter((o) => o.names.includes('same.txt')).length === 1 ? true : undefined
    }, 30_000)
    expect((await listing(desktopEnv)).find((o) => o.names.includes('same.txt'))?.cid).toBe(sameD)
    console.log(`[figures] two devices: converged ${(convergedMs / 1000).toFixed(1)} s after the sides met`)
  }, 180_000)
})
