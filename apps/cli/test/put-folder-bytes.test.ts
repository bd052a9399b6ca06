import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type ClusterNode, LocalCluster } from '@cas/test-kit'
import { afterAll, describe, expect, it } from 'vitest'
import { cas, waitFor } from './helpers/cluster.js'

/**
 * Issue 15, item 3: a second `put -r` of a 1,000-file folder with one file changed sends that file
 * and the catalogue records (the trees on its path, a log segment), nothing else. Bytes are the
 * object bytes the holders received, from their `cas_p2p_bytes_total{direction="in"}`.
 */

const R = 2
const FILES = 1_000
const FOLDERS = 10
/**
 * What the catalogue records of one changed file may take per holder: the tree of its folder (100
 * entries of about 150 bytes of JSON), the root tree, a segment of a few ops, and the seal of each.
 */
const CATALOGUE_ALLOWANCE = 32 * 1024

const cluster = new LocalCluster({ args: ['--replication', String(R)] })
afterAll(() => cluster.stop(), 60_000)

async function bytesIn(node: ClusterNode): Promise<number> {
  const res = await node.client.send('GET', '/metrics')
  let text = ''
  for await (const chunk of res) text += chunk
  const m = /^cas_p2p_bytes_total\{direction="in"\} (\d+)/m.exec(text)
  return m ? Number(m[1]) : 0
}

/** Object bytes received by every holder so far. */
async function received(holders: ClusterNode[]): Promise<number> {
  return (await Promise.all(holders.map(bytesIn))).reduce((a, b) => a + b, 0)
}

/** Until the owner's catalogue is published and a repair pass has nothing left to send. */
async function settled(env: NodeJS.ProcessEnv): Promise<void> {
  await waitFor(async () => {
    const s = JSON.parse((await cas(['--json', 'status'], { env })).text) as {
      catalogue: { unpublished: number; publishing: boolean }
    }
    return s.catalogue.unpublished === 0 && !s.catalogue.publishing ? true : undefined
  }, 30_000)
  const repair = JSON.parse((await cas(['--json', 'repair'], { env })).text) as { underReplicated: number }
  expect(repair.underReplicated).toBe(0)
}

describe('a second put -r', () => {
  it('of 1,000 files with one changed sends that file and the catalogue records', async () => {
    const dir = await cluster.dir()
    const holders = [await cluster.add({ name: 'h1' }), await cluster.add({ name: 'h2' })]
    const owner = await cluster.add({ name: 'owner' })
    const env = { CAS_HOME: owner.home }
    await waitFor(async () => ((await LocalCluster.connectedPeers(owner)) >= R ? true : undefined), 30_000)
    const src = join(dir, 'big-folder')
    let total = 0
    for (let i = 0; i < FILES; i++) {
      const folder = join(src, `part-${i % FOLDERS}`)
      await mkdir(folder, { recursive: true })
      const bytes = randomBytes(2_048 + ((i * 7919) % 14_336))
      total += bytes.length
      await writeFile(join(folder, `file-${i}.bin`), bytes)
    }
    const before = await received(holders)
    const first = await cas(['--json', 'put', '-r', src], { env })
    expect(first.code, first.stderr).toBe(0)
    await settled(env)
    const afterFirst = await received(holders)

    const changed = randomBytes(10_000)
    await writeFile(join(src, 'part-3', 'file-3.bin'), changed)
    const second = await cas(['--json', 'put', '-r', src], { env })
    expect(second.code, second.stderr).toBe(0)
    expect(JSON.parse(second.text)).toMatchObject({
      files: FILES,
      sent: 1,
      sentBytes: 10_000,
      unchanged: FILES - 1,
    })
    await settled(env)
    const afterSecond = await received(holders)

    const firstSent = afterFirst - before
    const secondSent = afterSecond - afterFirst
    console.log(
      `[figures] put -r of ${FILES} files (${total} bytes): holders received ${firstSent} bytes; again with one file of 10,000 bytes changed: ${secondSent} bytes (${R} replicas of the file: ${R * changed.length}; the rest is catalogue records)`,
    )
    expect(firstSent).toBeGreaterThan(R * total)
    expect(secondSent).toBeGreaterThanOrEqual(R * changed.length)
    expect(secondSent).toBeLessThanOrEqual(R * (changed.length + CATALOGUE_ALLOWANCE))
  }, 180_000)
})
