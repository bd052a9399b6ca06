import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
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

async function lyingNode(body: Buffer, cid: string): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': body.length, 'x-cas-cid': cid })
    res.end(body)
  })
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
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
