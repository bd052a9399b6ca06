import { randomBytes } from 'node:crypto'
import { ObjectInfoSchema } from '@cas/api'
import { type ClusterNode, LocalCluster, until } from '@cas/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import * as z from 'zod'
import { untilConnectedPeers } from '../src/connected-peers.js'
import { type FakeAnswer, FakePeer } from '../src/fake-peer.js'
import { evictLocal, getBytes } from '../src/object-io.js'
import { commitChunkLengths } from '../src/signed-bodies.js'
import { amount, reportFigures } from '../src/suite-mode.js'
import { cidOf, corruptBytes, putRandom } from './helpers/objects.js'

/**
 * Promise: a holder cannot keep a replica's credit while throwing its bytes away. The hollow
 * holder is a fake peer on the real wire protocol: it takes a store, keeps only the owner's signed
 * commit (a few hundred bytes), answers `has` yes and serves the commit as asked, and answers a
 * chunk request with bytes of the right length. Against a real owner node: with audits off the
 * object counts as healthy while its only replica is gone (before); with audits on the owner finds
 * out within an audit round, stops counting the fake holder, replicates to an honest node, and
 * the object comes back intact after the local copy is dropped (after).
 */

const SIZE = 200 * 1024
const AUDIT_INTERVAL_MS = 500
/** Objects the hollow holder takes. */
const OBJECTS = amount(2, 20)

const clusters: LocalCluster[] = []
const fakes: FakePeer[] = []

afterEach(async () => {
  for (const f of fakes.splice(0)) f.close()
  for (const c of clusters.splice(0)) await c.stop()
})

/** A holder that keeps the commit of each replica it is sent and nothing else. */
function hollowHolder(): (req: { body: unknown; data: Buffer | undefined }) => FakeAnswer {
  const commits = new Map<string, Buffer>()
  return ({ body, data }) => {
    const req = body as {
      op?: string
      locator?: string
      locators?: string[]
      part?: string
      first?: number
      count?: number
    }
    switch (req.op) {
      case 'store': {
        const commit = lastRecord(data ?? Buffer.alloc(0))
        // The signed form: u32be length | commit ("CASC" | 2 | ownerId[32] | locator[32] | …).
        const locator = commit.subarray(4 + 37, 4 + 69).toString('hex')
        commits.set(locator, commit)
        return { body: { stored: true, size: data?.length ?? 0 } }
      }
      case 'has':
        return { body: { present: (req.locators ?? []).map((l) => commits.has(l)) } }
      case 'fetch': {
        const commit = commits.get(req.locator ?? '')
        if (!commit) return { code: 'ERR_NOT_FOUND', message: 'no such replica' }
        if (req.part === 'commit') return { body: { size: commit.length }, data: commit }
        const lengths = commitChunkLengths(commit).slice(req.first ?? 0, (req.first ?? 0) + (req.count ?? 1))
        const size = lengths.reduce((a, b) => a + b, 0)
        return { body: { size }, data: randomBytes(size) }
      }
      case 'gossip':
        return { body: { records: [] } }
      default:
        return { code: 'ERR_FAKE_PEER', message: 'not served' }
    }
  }
}

/** The payload of the last `type u8 | length u32be | payload` record of a store's data (the commit). */
function lastRecord(data: Buffer): Buffer {
  let at = 0
  let last: Buffer = Buffer.alloc(0)
  while (at + 5 <= data.length) {
    const len = data.readUInt32BE(at + 1)
    last = data.subarray(at + 5, at + 5 + len)
    at += 5 + len
  }
  return last
}

const Info = ObjectInfoSchema.extend({
  failedAudits: z.array(z.object({ nodeId: z.string(), at: z.number(), code: z.string() })),
})

async function setUp(auditRate: string) {
  const cluster = new LocalCluster({
    args: ['--replication', '1', '--audit-rate', auditRate, '--audit-interval', String(AUDIT_INTERVAL_MS)],
  })
  clusters.push(cluster)
  const owner = await cluster.add({ name: 'owner' })
  const fake = await FakePeer.connect(owner.p2p)
  fakes.push(fake)
  fake.serve = hollowHolder()
  await untilConnectedPeers(owner, 1, 20_000)
  const puts = []
  for (let i = 0; i < OBJECTS; i++) {
    const put = await putRandom(owner, SIZE)
    expect(put.replicas).toEqual([fake.nodeId])
    puts.push(put)
  }
  const putAt = Date.now()
  const honest = await cluster.add({ name: 'honest' })
  await untilConnectedPeers(owner, 2, 20_000)
  return { owner, honest, fake, puts, put: puts[0] as (typeof puts)[number], putAt }
}

const stat = (node: ClusterNode, cid: string) => node.client.json(Info, 'GET', `/v1/objects/${cid}/stat`)

describe('a hollow holder against a real owner node', () => {
  it('before: with audits off, the object counts as healthy while its only replica is gone', async () => {
    const { owner, fake, put } = await setUp('0')
    const repair = await owner.client.json(z.looseObject({ healthy: z.number() }), 'POST', '/v1/repair')
    expect(repair.healthy).toBe(OBJECTS)
    expect((await stat(owner, put.cid)).holders.map((h) => h.nodeId)).toEqual([fake.nodeId])
    // Once the owner's own copy is gone, nothing good is left.
    await evictLocal(owner, put.cid)
    const res = await owner.client.send('GET', `/v1/objects/${put.cid}`).then(
      async (body) => {
        const chunks: Buffer[] = []
        for await (const c of body) chunks.push(c as Buffer)
        return Buffer.concat(chunks)
      },
      (err: unknown) => err,
    )
    expect(res).toBeInstanceOf(Error)
    reportFigures({
      fault: 'hollow holder, audits off',
      iterations: 1,
      objectsChecked: 1,
      objectsLost: 1,
      corruptBytesReturned: 0,
      detectedMs: -1,
    })
  }, 120_000)

  it(`after: an audit finds the hollow holder of ${OBJECTS} objects, each is replicated elsewhere and comes back intact`, async () => {
    const { owner, honest, fake, puts, putAt } = await setUp('64MiB')
    const failed = async () => {
      let n = 0
      for (const p of puts) if ((await stat(owner, p.cid)).failedAudits.length > 0) n++
      return n
    }
    await until('a failed audit of the hollow holder', async () => (await failed()) > 0, 30_000)
    const detectedMs = Date.now() - putAt
    await until('a failed audit of every object', async () => (await failed()) === puts.length, 60_000)
    const allDetectedMs = Date.now() - putAt
    let corrupt = 0
    let code = ''
    for (const put of puts) {
      await until(
        'the replica replaced on the honest node',
        async () => (await stat(owner, put.cid)).holders.some((h) => h.nodeId === honest.process.info.nodeId),
        30_000,
      )
      const info = await stat(owner, put.cid)
      expect(info.failedAudits.map((f) => f.nodeId)).toEqual([fake.nodeId])
      expect(info.holders.map((h) => h.nodeId)).toEqual([honest.process.info.nodeId])
      code = info.failedAudits[0]?.code ?? ''
      await evictLocal(owner, put.cid)
      const got = await getBytes(owner, put.cid)
      expect(cidOf(got)).toBe(put.cid)
      corrupt += corruptBytes(got, put.bytes)
    }
    const metrics = await owner.client.send('GET', '/metrics')
    let text = ''
    for await (const c of metrics as AsyncIterable<Buffer>) text += c.toString()
    expect(text).toMatch(/^cas_audits_total\{result="failed"\} [1-9]/m)
    reportFigures({
      fault: 'hollow holder, audits on',
      iterations: 1,
      objectsChecked: puts.length,
      objectsLost: 0,
      corruptBytesReturned: corrupt,
      detectedMs,
      allDetectedMs,
      auditIntervalMs: AUDIT_INTERVAL_MS,
      failedWith: code,
    })
    expect(corrupt).toBe(0)
  }, 180_000)
})
