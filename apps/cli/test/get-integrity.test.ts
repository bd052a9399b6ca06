import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cidOf } from '@cas/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { EXIT_INTEGRITY } from '../src/index.js'
import { cas } from './helpers/cluster.js'

// A stand-in for a damaged or lying node: it answers GET with bytes that do not hash to the cid it names.
let server: Server | undefined
let dir: string | undefined
afterEach(async () => {
  if (server) await new Promise((r) => server?.close(r))
  if (dir) await rm(dir, { recursive: true, force: true })
  server = undefined
  dir = undefined
})

/** Serves `handler` on a port of 127.0.0.1 (closed after each test); resolves with its address. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler)
  server = s
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`
}

function lyingNode(body: Buffer, cid: string): Promise<string> {
  return serve((_req, res) => {
    res.writeHead(200, { 'content-length': body.length, 'x-cas-cid': cid })
    res.end(body)
  })
}

describe('cas get integrity check', () => {
  it('exits 4 and leaves no file when the bytes do not hash to the cid', async () => {
    const good = randomBytes(200_000)
    const cid = cidOf(good)
    const bad = Buffer.from(good)
    bad[1234] = (bad[1234] ?? 0) ^ 1
    const api = await lyingNode(bad, cid)
    dir = await mkdtemp(join(tmpdir(), 'cas-integrity-'))
    const r = await cas(['get', cid, '-o', join(dir, 'out.bin')], { env: { CAS_API: api, CAS_TOKEN: 't' } })
    expect(r.code).toBe(EXIT_INTEGRITY)
    expect(r.stderr).toContain(`not to its cid ${cid}`)
    expect(await readdir(dir)).toEqual([])
  })
})

/** A node with one snapshot of two small files, one of which it answers with other bytes than its cid's. */
function lyingSnapshotNode(good: Buffer, bad: { sent: Buffer; cid: string }): Promise<string> {
  const goodCid = cidOf(good)
  const info = { id: 'dev:1', root: 'r', at: 1_700_000_000_000, tree: 'ab'.repeat(32), files: 2, bytes: 0 }
  const file = (path: string, cid: string, size: number) => ({
    type: 'file',
    path,
    mtime: 1_600_000_000_000,
    mode: 0o644,
    size,
    cid,
  })
  const routes: Record<string, () => [Record<string, string | number>, Buffer]> = {
    '/v1/snapshots': () => [{ 'content-type': 'application/json' }, Buffer.from(JSON.stringify([info]))],
    '/v1/objects': () => [{ 'content-type': 'application/json' }, Buffer.from('[]')],
    '/v1/snapshots/dev%3A1': () => [
      { 'content-type': 'application/json' },
      Buffer.from(
        JSON.stringify({
          ...info,
          entries: [
            { type: 'dir', path: '.', mtime: 1_600_000_000_000, mode: 0o755 },
            file('good.bin', goodCid, good.length),
            file('bad.bin', bad.cid, bad.sent.length),
          ],
        }),
      ),
    ],
    [`/v1/objects/${goodCid}`]: () => [{ 'x-cas-cid': goodCid }, good],
    [`/v1/objects/${bad.cid}`]: () => [{ 'x-cas-cid': bad.cid }, bad.sent],
  }
  return serve((req, res) => {
    const route = routes[req.url ?? '']
    if (!route) {
      res.writeHead(404).end()
      return
    }
    const [headers, body] = route()
    res.writeHead(200, { ...headers, 'content-length': body.length })
    res.end(body)
  })
}

describe('cas get -r integrity check', () => {
  it('writes the files that check out and no file, not even a partial one, for one that does not', async () => {
    const good = randomBytes(3_000)
    const original = randomBytes(20_000)
    const sent = Buffer.from(original)
    sent[777] = (sent[777] ?? 0) ^ 1
    const api = await lyingSnapshotNode(good, { sent, cid: cidOf(original) })
    dir = await mkdtemp(join(tmpdir(), 'cas-integrity-'))
    const out = join(dir, 'out')
    const r = await cas(['get', '-r', 'dev:1', '-o', out], { env: { CAS_API: api, CAS_TOKEN: 't' } })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain(`bad.bin: the data read back hashes to`)
    expect(await readdir(out)).toEqual(['good.bin'])
    expect((await readFile(join(out, 'good.bin'))).equals(good)).toBe(true)
  })
})
