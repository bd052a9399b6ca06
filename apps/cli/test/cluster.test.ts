import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  DeleteResultSchema,
  ObjectInfoSchema,
  ObjectListSchema,
  PeerListSchema,
  PutResultSchema,
  RenameResultSchema,
  ShareResultSchema,
  StatusSchema,
  VerifyResultSchema,
} from '@cas/api'
import { cidOf } from '@cas/crypto'
import type { NodeProcess } from '@cas/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { z } from 'zod'
import {
  EXIT_NO_NODE,
  EXIT_NOT_FOUND,
  EXIT_UNAUTHENTICATED,
  EXIT_USAGE,
  GetResultSchema,
} from '../src/index.js'
import { Cluster, cas, waitFor } from './helpers/cluster.js'

// Three daemons as real processes; node 3 is "my" node. Replication 2: the other two hold replicas.
const cluster = new Cluster()
let n1: NodeProcess
let n3: NodeProcess
let dir: string
const data = randomBytes(3 * 1024 * 1024 + 123)
const cid = cidOf(data)
let file: string

function parseJson<T>(schema: z.ZodType<T>, text: string): T {
  return schema.parse(JSON.parse(text))
}

beforeAll(async () => {
  dir = await cluster.dir()
  n1 = await cluster.add(['--replication', '2'])
  await cluster.add(['--replication', '2'])
  n3 = await cluster.add(['--replication', '2'])
  for (const node of cluster.nodes) {
    await waitFor(async () => {
      const r = await cas(['--json', 'peers'], { env: cluster.envFor(node) })
      return parseJson(PeerListSchema, r.text).filter((p) => p.connected).length >= 2 ? true : undefined
    }, 30_000)
  }
  file = join(dir, 'photo.jpg')
  await writeFile(file, data)
}, 120_000)
afterAll(() => cluster.stop(), 60_000)

describe('cas against three running nodes', () => {
  it('puts a file: the cid on stdout, a summary on stderr, replicas on both peers', async () => {
    const r = await cas(['put', file], { env: cluster.envFor(n3) })
    expect(r.code).toBe(0)
    expect(r.text).toBe(cid)
    expect(r.stderr).toContain('2/2 replicas')
    const stat = await cas(['--json', 'stat', cid], { env: cluster.envFor(n3) })
    const info = parseJson(ObjectInfoSchema, stat.text)
    expect(info).toMatchObject({ cid, size: data.length, names: ['photo.jpg'], local: true, wanted: 2 })
    expect(info.holders.filter((h) => h.live)).toHaveLength(2)
    // each holder acknowledged a store it had checked: proven good at the put
    for (const h of info.holders) expect(Date.now() - (h.provenAt ?? 0)).toBeLessThan(60_000)
    const human = await cas(['stat', cid], { env: cluster.envFor(n3) })
    expect(human.text.match(/live, proven good just now/g)).toHaveLength(2)
  })

  it("counts the replicas' bytes in the node's metrics", async () => {
    const res = await fetch(`${n3.info.api}/metrics`, {
      headers: { authorization: `Bearer ${await cluster.token(n3)}` },
    })
    const text = await res.text()
    const sent = Number(/^cas_p2p_bytes_total\{direction="out"\} (\d+)$/m.exec(text)?.[1])
    expect(sent).toBeGreaterThanOrEqual(2 * data.length)
    expect(text).toMatch(/^cas_peers 2$/m)
  })

  it('gets it back to a file and, by name, to stdout', async () => {
    const out = join(dir, 'back.jpg')
    const r = await cas(['get', cid, '-o', out], { env: cluster.envFor(n3) })
    expect(r.code).toBe(0)
    expect((await readFile(out)).equals(data)).toBe(true)
    const byName = await cas(['get', 'photo.jpg'], { env: cluster.envFor(n3) })
    expect(byName.code).toBe(0)
    expect(byName.stdout.equals(data)).toBe(true)
  })

  it('gets it from the network after the local copy is gone', async () => {
    const rm = await cas(['--json', 'rm', '--local', cid], { env: cluster.envFor(n3) })
    expect(parseJson(DeleteResultSchema, rm.text)).toMatchObject({ cid, local: true, peers: 0 })
    const before = parseJson(
      ObjectInfoSchema,
      (await cas(['--json', 'stat', cid], { env: cluster.envFor(n3) })).text,
    )
    expect(before.local).toBe(false)
    const r = await cas(['get', cid], { env: cluster.envFor(n3) })
    expect(r.code).toBe(0)
    expect(r.stdout.equals(data)).toBe(true)
    const after = parseJson(
      ObjectInfoSchema,
      (await cas(['--json', 'stat', cid], { env: cluster.envFor(n3) })).text,
    )
    expect(after.local).toBe(true)
  })

  it('shares it: another owner fetches it with the capability through its own node', async () => {
    const share = await cas(['--json', 'share', cid], { env: cluster.envFor(n3) })
    const { capability } = parseJson(ShareResultSchema, share.text)
    const plain = await cas(['share', cid], { env: cluster.envFor(n3) })
    expect(plain.text).toMatch(/^cas-cap2:/)
    const r = await cas(['get', capability], { env: cluster.envFor(n1) })
    expect(r.code).toBe(0)
    expect(r.stdout.equals(data)).toBe(true)
  })

  it('lists it with its names and replica health', async () => {
    const r = await cas(['--json', 'ls'], { env: cluster.envFor(n3) })
    const list = parseJson(ObjectListSchema, r.text)
    expect(list).toEqual([expect.objectContaining({ cid, names: ['photo.jpg'], wanted: 2 })])
    const table = await cas(['ls'], { env: cluster.envFor(n3) })
    expect(table.text.split('\n')[0]).toMatch(/^CID\s+SIZE\s+REPLICAS\s+PROVEN\s+LOCAL\s+NAMES$/)
    expect(table.text).toMatch(new RegExp(`${cid}  3.00 MiB  2/2 +just now`))
  })

  it('reads stdin with put -', async () => {
    const small = randomBytes(10_000)
    const r = await cas(['--json', 'put', '-', '--name', 'from-stdin'], {
      env: cluster.envFor(n3),
      input: small,
    })
    expect(r.code).toBe(0)
    expect(parseJson(PutResultSchema, r.text)).toMatchObject({
      cid: cidOf(small),
      size: small.length,
      wanted: 2,
      underReplicated: false,
    })
  })

  it('reports status, peers and a clean verify as JSON that matches the schemas', async () => {
    const status = parseJson(
      StatusSchema,
      (await cas(['--json', 'status'], { env: cluster.envFor(n3) })).text,
    )
    expect(status).toMatchObject({ nodeId: n3.info.nodeId, peers: { connected: 2 } })
    expect(status.objects).toBeGreaterThanOrEqual(1)
    const peers = parseJson(
      PeerListSchema,
      (await cas(['--json', 'peers'], { env: cluster.envFor(n3) })).text,
    )
    expect(peers.map((p) => p.nodeId)).toContain(n1.info.nodeId)
    const verify = await cas(['--json', 'verify'], { env: cluster.envFor(n3) })
    expect(verify.code).toBe(0)
    expect(parseJson(VerifyResultSchema, verify.text)).toMatchObject({ damaged: [] })
  })

  it('writes JSON for get -o and refuses --json without -o as a usage error', async () => {
    const out = join(dir, 'json-get.bin')
    const r = await cas(['--json', 'get', cid, '-o', out], { env: cluster.envFor(n3) })
    expect(parseJson(GetResultSchema, r.text)).toEqual({ cid, size: data.length, path: out })
    const bad = await cas(['--json', 'get', cid], { env: cluster.envFor(n3) })
    expect(bad.code).toBe(EXIT_USAGE)
    expect(bad.stdout.length).toBe(0)
    expect(JSON.parse(bad.stderr)).toMatchObject({ error: { code: 'ERR_USAGE' } })
  })

  it('exits with the documented codes: usage 2, not found 3, no node 5, bad token 6', async () => {
    expect((await cas(['stat', 'nope'], { env: cluster.envFor(n3) })).code).toBe(EXIT_NOT_FOUND)
    expect((await cas(['frobnicate'], { env: cluster.envFor(n3) })).code).toBe(EXIT_USAGE)
    const missing = await cas(['get', 'f'.repeat(64)], { env: cluster.envFor(n3) })
    expect(missing.code).toBe(EXIT_NOT_FOUND)
    expect(missing.stdout.length).toBe(0)
    const noNode = await cas(['status'], { env: { CAS_API: 'http://127.0.0.1:1', CAS_TOKEN: 'x' } })
    expect(noNode.code).toBe(EXIT_NO_NODE)
    expect(noNode.stderr.trim().split('\n')).toHaveLength(1)
    expect(noNode.stderr).toContain('pnpm --filter node start')
    const badToken = await cas(['status'], { env: { CAS_API: n3.info.api, CAS_TOKEN: 'wrong' } })
    expect(badToken.code).toBe(EXIT_UNAUTHENTICATED)
  })

  it('talks to the node named by --api with CAS_TOKEN, without a data directory', async () => {
    const r = await cas(['--api', n1.info.api, '--json', 'status'], {
      env: { CAS_TOKEN: await cluster.token(n1) },
    })
    expect(parseJson(StatusSchema, r.text).nodeId).toBe(n1.info.nodeId)
  })

  it('takes a name or the start of a cid wherever a cid goes, and lists the candidates of an ambiguous one', async () => {
    const env = cluster.envFor(n3)
    const byName = parseJson(ObjectInfoSchema, (await cas(['--json', 'stat', 'photo.jpg'], { env })).text)
    expect(byName.cid).toBe(cid)
    const byPrefix = parseJson(
      ShareResultSchema,
      (await cas(['--json', 'share', cid.slice(0, 7)], { env })).text,
    )
    expect(byPrefix.cid).toBe(cid)
    // An object named like the start of photo.jpg's cid: that ref now fits both, and rm removes neither.
    const clash = cid.slice(0, 9)
    const other = await cas(['--json', 'put', '-', '--name', clash], { env, input: randomBytes(100) })
    const otherCid = parseJson(PutResultSchema, other.text).cid
    const ambiguous = await cas(['rm', clash], { env })
    expect(ambiguous.code).toBe(EXIT_USAGE)
    expect(ambiguous.stderr).toContain(cid)
    expect(ambiguous.stderr).toContain(`${otherCid} (${clash})`)
    const list = parseJson(ObjectListSchema, (await cas(['--json', 'ls'], { env })).text)
    expect(list.map((o) => o.cid)).toEqual(expect.arrayContaining([cid, otherCid]))
    const removed = parseJson(
      DeleteResultSchema,
      (await cas(['--json', 'rm', otherCid.slice(0, 12)], { env })).text,
    )
    expect(removed.cid).toBe(otherCid)
  })

  it('renames with mv: the new name finds it, the old one does not, nothing is sent again', async () => {
    const env = cluster.envFor(n3)
    const moved = parseJson(
      RenameResultSchema,
      (await cas(['--json', 'mv', 'photo.jpg', 'holiday.jpg'], { env })).text,
    )
    expect(moved).toEqual({ cid, names: ['holiday.jpg'] })
    const byNew = parseJson(ObjectInfoSchema, (await cas(['--json', 'stat', 'holiday.jpg'], { env })).text)
    expect(byNew.cid).toBe(cid)
    expect((await cas(['stat', 'photo.jpg'], { env })).code).toBe(EXIT_NOT_FOUND)
    const back = await cas(['mv', cid.slice(0, 10), 'photo.jpg'], { env })
    expect(back.code).toBe(0)
    expect(back.stdout.toString()).toBe(`${cid}  photo.jpg\n`)
  })

  it('deletes it everywhere with rm; a later get is not found', async () => {
    const r = await cas(['--json', 'rm', cid], { env: cluster.envFor(n3) })
    expect(parseJson(DeleteResultSchema, r.text)).toMatchObject({ cid, local: true, peers: 2 })
    const again = await cas(['get', cid], { env: cluster.envFor(n3) })
    expect(again.code).toBe(EXIT_NOT_FOUND)
  })
})
