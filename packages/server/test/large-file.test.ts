import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CidHasher, generateOwnerKey, ownerKeyToPem } from '@cas/crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from './helpers/cluster.js'
import { NodeProcess } from './helpers/node-process.js'

const GiB = 1024 ** 3
const MiB = 1024 ** 2
/** Growth of a process's resident set over its idle level that still counts as flat for a 1 GiB transfer. */
const FLAT_RSS_MARGIN = 160 * MiB

/** Writes `size` bytes of random-looking data (a random 1 MiB block, varied per MiB); returns its SHA-256 and cid. */
async function writeBigFile(path: string, size: number): Promise<{ sha: string; cid: string }> {
  const block = randomBytes(MiB)
  const hash = createHash('sha256')
  const cid = new CidHasher()
  const out = createWriteStream(path)
  for (let i = 0; i < size / MiB; i++) {
    block.writeUInt32BE(i, 0)
    const piece = Buffer.from(block)
    hash.update(piece)
    cid.update(piece)
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  )
  return { sha: hash.digest('hex'), cid: cid.digest() }
}

describe('a 1 GiB file between two node processes', () => {
  let dir: string
  const procs: NodeProcess[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cas-server-big-'))
  })
  afterAll(async () => {
    await Promise.allSettled(procs.map((p) => p.close()))
    await rm(dir, { recursive: true, force: true })
  })

  it('is put, evicted and got back byte for byte with each process’s memory flat', async () => {
    const path = join(dir, 'big.bin')
    const { sha, cid } = await writeBigFile(path, GiB)
    const ownerPem = ownerKeyToPem(generateOwnerKey())
    const a = new NodeProcess()
    const b = new NodeProcess()
    procs.push(a, b)
    const started = await a.call<{ addr: string }>('start', {
      dataDir: join(dir, 'a'),
      ownerPem,
      replication: 1,
    })
    await b.call('start', { dataDir: join(dir, 'b'), ownerPem, replication: 1, bootstrap: [started.addr] })
    await waitFor(async () => (await a.call<number>('peers')) === 1, { what: 'a to see b' })
    const idle = await Promise.all([a.call<number>('resetPeak'), b.call<number>('resetPeak')])

    const put = await a.call<{ cid: string; size: number; replicas: string[] }>('put', { path })
    expect(put).toMatchObject({ cid, size: GiB, underReplicated: false })
    expect(await a.call('evict', { cid })).toBe(true)
    const got = await a.call<{ sha: string; size: number; source: string }>('get', { cid })
    expect(got).toMatchObject({ sha, size: GiB })
    expect(got.source).toBe(put.replicas[0])

    const [ra, rb] = await Promise.all([a.call<{ peak: number }>('rss'), b.call<{ peak: number }>('rss')])
    expect(ra.peak - idle[0]).toBeLessThan(FLAT_RSS_MARGIN)
    expect(rb.peak - idle[1]).toBeLessThan(FLAT_RSS_MARGIN)
  }, 240_000)
})
