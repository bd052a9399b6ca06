import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { EXIT_NOT_FOUND, EXIT_OK, EXIT_UNAUTHENTICATED, EXIT_USAGE, ObjectListSchema } from '@cas/api'
import { createNodeIdentity, TcpTransport } from '@cas/p2p'
import { type ClusterNode, LocalCluster } from '@cas/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { untilConnectedPeers } from '../src/connected-peers.js'
import { type CasRun, runCas } from '../src/node-api.js'
import { readLog, waitForLog } from '../src/node-log.js'
import { evictLocal, getBytes } from '../src/object-io.js'
import { iterations, reportFigures } from '../src/suite-mode.js'
import { cidOf, corruptBytes, isAlive, putRandom } from './helpers/objects.js'

/**
 * Promise: only the holder of the API token, talking to the node by its own loopback name,
 * gets anything done through the HTTP API; hostile names, paths, ids and ranges are refused
 * with their documented status (and the `cas` binary's documented exit code) and write
 * nothing outside the store; a node with another network key cannot join; a dial that
 * expects one node refuses a certificate of another. The node keeps serving throughout.
 */

const NETWORK_KEY = randomBytes(32).toString('hex')
const OTHER_KEY = randomBytes(32).toString('hex')

let cluster: LocalCluster
let a: ClusterNode
let b: ClusterNode
let scratch: string
let known: { cid: string; bytes: Buffer }
const figures = { requests: 0, refused: 0, cliRuns: 0, objectsChecked: 0, objectsLost: 0, corruptBytes: 0 }

beforeAll(async () => {
  cluster = new LocalCluster({ args: ['--replication', '1', '--network-key', NETWORK_KEY] })
  a = await cluster.add({ name: 'a' })
  b = await cluster.add({ name: 'b' })
  await untilConnectedPeers(a, 1, 20_000)
  scratch = await mkdtemp(join(tmpdir(), 'cas-untrusted-'))
  const put = await putRandom(a, 64 * 1024)
  known = { cid: put.cid, bytes: put.bytes }
}, 120_000)

afterAll(async () => {
  await cluster?.stop()
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** One raw HTTP request with exactly the headers given (node:http, so that Host can be anything). */
function raw(
  node: ClusterNode,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<Answer> {
  const url = new URL(node.process.info.api)
  figures.requests++
  return new Promise((resolvePromise, reject) => {
    const req = request({
      host: url.hostname,
      port: Number(url.port),
      method,
      path,
      headers,
      agent: false,
      setHost: !Object.keys(headers).some((h) => h.toLowerCase() === 'host'),
    })
    req.on('error', reject)
    req.on('response', (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () =>
        resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
      )
      res.on('error', reject)
    })
    req.end(body)
  })
}

const bearer = (node: ClusterNode): Record<string, string> => ({ authorization: `Bearer ${node.token}` })

function errorCode(answer: Answer): string | undefined {
  try {
    return (JSON.parse(answer.body.toString()) as { error?: { code?: string } }).error?.code
  } catch {
    return undefined
  }
}

function expectRefused(answer: Answer, status: number, code?: string): void {
  expect(answer.status).toBe(status)
  if (code) expect(errorCode(answer)).toBe(code)
  figures.refused++
}

/** Every file under `dir` except the store, the catalogue and logs, with its size and mtime. */
async function filesOutsideStore(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  async function walk(d: string): Promise<void> {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name)
      const rel = relative(dir, p)
      if (/(^|\/)(store|catalogue)$/.test(rel) || rel.endsWith('.log') || rel.endsWith('node.json')) continue
      if (entry.isDirectory()) await walk(p)
      else {
        const s = await stat(p)
        out.set(rel, `${s.size}:${s.mtimeMs}`)
      }
    }
  }
  await walk(dir)
  return out
}

/** Runs the `cas` binary against node `a` from the scratch folder; resolves with its exit code, stdout and stderr. */
function cas(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CasRun> {
  figures.cliRuns++
  return runCas(a, args, { cwd: scratch, env })
}

/** The node is up, still has `known` intact, and a put/get round trip with its peer works. */
async function stillServes(node: ClusterNode, peer: ClusterNode): Promise<void> {
  expect(isAlive(node)).toBe(true)
  const check = (want: Buffer, got: Buffer, cid: string) => {
    figures.objectsChecked++
    figures.corruptBytes += corruptBytes(got, want)
    if (got.length === 0) figures.objectsLost++
    expect(cidOf(got)).toBe(cid)
  }
  check(known.bytes, await getBytes(a, known.cid), known.cid)
  const fresh = await putRandom(node, 32 * 1024)
  expect(fresh.replicas).toEqual([peer.process.info.nodeId])
  await evictLocal(node, fresh.cid)
  check(fresh.bytes, await getBytes(node, fresh.cid), fresh.cid)
}

const rounds = iterations(1, 10)

describe('untrusted callers of a real node', () => {
  it('refuses every endpoint without the token, or with a wrong one, and changes nothing', async () => {
    const before = await a.client.json(ObjectListSchema, 'GET', '/v1/objects')
    const cid = known.cid
    const endpoints: [string, string, string?][] = [
      ['GET', '/v1/objects'],
      ['POST', '/v1/objects?name=intruder', 'intruder bytes'],
      ['GET', `/v1/objects/${cid}`],
      ['HEAD', `/v1/objects/${cid}`],
      ['DELETE', `/v1/objects/${cid}`],
      ['DELETE', `/v1/objects/${cid}?local=1`],
      ['GET', `/v1/objects/${cid}/stat`],
      ['POST', `/v1/objects/${cid}/share`],
      ['GET', '/v1/peers'],
      ['POST', '/v1/peers', JSON.stringify({ addr: '127.0.0.1:1' })],
      ['GET', '/v1/status'],
      ['POST', '/v1/verify'],
      ['POST', '/v1/repair'],
      ['POST', '/v1/stop'],
      ['GET', '/metrics'],
      ['GET', '/v1/no-such-route'],
    ]
    const wrongTokens: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${'A'.repeat(a.token.length)}` },
      { authorization: `Bearer ${a.token.slice(0, -1)}` },
      { authorization: `Bearer ${a.token}x` },
      { authorization: `Basic ${Buffer.from(`cas:${a.token}`).toString('base64')}` },
      { authorization: `Bearer ${b.token}` }, // another node's token
      { 'x-api-token': a.token },
    ]
    for (let round = 0; round < rounds; round++) {
      for (const [method, path, body] of endpoints) {
        for (const headers of wrongTokens) {
          const answer = await raw(a, method, path, headers ?? {}, body)
          expectRefused(answer, 401, method === 'HEAD' ? undefined : 'ERR_UNAUTHENTICATED')
          expect(answer.headers['www-authenticate']).toBe('Bearer')
        }
      }
      // A token in the query string is no token.
      expectRefused(await raw(a, 'GET', `/v1/status?token=${a.token}`), 401, 'ERR_UNAUTHENTICATED')
    }
    expect(await a.client.json(ObjectListSchema, 'GET', '/v1/objects')).toEqual(before)
    const logged = (await readLog(join(await cluster.dir(), 'a.log'))).filter(
      (l) => l.code === 'ERR_UNAUTHENTICATED',
    )
    expect(logged.length).toBeGreaterThan(0)
    await stillServes(a, b)
  })

  it('refuses a foreign Host or Origin even with the right token', async () => {
    const port = new URL(a.process.info.api).port
    const hosts = [
      'evil.example',
      `evil.example:${port}`,
      `127.0.0.1.evil.example:${port}`,
      `localhost:${Number(port) + 1}`,
      `127.0.0.2:${port}`,
      `LOCALHOST.:${port}`,
      '',
    ]
    for (const host of hosts) {
      for (const path of ['/v1/status', '/v1/objects', '/healthz']) {
        expectRefused(await raw(a, 'GET', path, { ...bearer(a), host }), 403, 'ERR_FORBIDDEN_HOST')
      }
    }
    const origins = [
      'http://evil.example',
      `http://evil.example:${port}`,
      'null',
      `https://127.0.0.1:${port}`,
    ]
    for (const origin of origins) {
      expectRefused(await raw(a, 'GET', '/v1/status', { ...bearer(a), origin }), 403, 'ERR_FORBIDDEN_ORIGIN')
    }
    // A put through a rebinding page must not store anything.
    const before = (await a.client.json(ObjectListSchema, 'GET', '/v1/objects')).length
    expectRefused(
      await raw(a, 'POST', '/v1/objects?name=rebound', { ...bearer(a), host: 'evil.example' }, 'rebound'),
      403,
      'ERR_FORBIDDEN_HOST',
    )
    expect((await a.client.json(ObjectListSchema, 'GET', '/v1/objects')).length).toBe(before)
    // The node's own names still work.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      expect((await raw(a, 'GET', '/v1/status', { ...bearer(a), host })).status).toBe(200)
    }
    await stillServes(a, b)
  })

  it('refuses hostile names, paths, ids and ranges with their documented status, writing nothing outside the store', async () => {
    const dir = await cluster.dir()
    const tag = randomBytes(4).toString('hex')
    const before = await filesOutsideStore(dir)
    const h = bearer(a)
    const cid = known.cid
    const long = 'x'.repeat(10_000)
    // [method, path, expected status, expected code?]
    const cases: [string, string, number, string?][] = [
      ['GET', '/v1/objects/%2e%2e', 404],
      ['GET', '/v1/objects/%2e%2e%2f%2e%2e%2fetc%2fpasswd', 404, 'ERR_NOT_FOUND'],
      ['GET', '/v1/objects/..%2f..%2fapi-token', 404, 'ERR_NOT_FOUND'],
      ['GET', '/v1/objects/../../api-token', 404, 'ERR_NO_ROUTE'],
      ['GET', '/v1/objects/%00', 404, 'ERR_NOT_FOUND'],
      ['GET', '/v1/objects/a%00b', 404, 'ERR_NOT_FOUND'],
      ['GET', '/v1/objects/%zz', 400, 'ERR_BAD_REQUEST'],
      ['GET', `/v1/objects/${long}`, 404, 'ERR_NOT_FOUND'],
      ['GET', `/v1/objects/${encodeURIComponent('€'.repeat(1_000))}`, 404, 'ERR_NOT_FOUND'],
      // Over node:http's 16 KiB of request line and headers: refused before any handler runs.
      ['GET', `/v1/objects/${'x'.repeat(20_000)}`, 431],
      ['GET', `/v1/objects/${cid.toUpperCase()}`, 404, 'ERR_NOT_FOUND'],
      ['GET', '/v1/objects/cas-cap2:garbage', 400, 'ERR_INVALID_CAPABILITY'],
      ['GET', `/v1/objects/cas-cap2:${'A'.repeat(5_000)}`, 400, 'ERR_INVALID_CAPABILITY'],
      ['GET', `/v1/objects/${'g'.repeat(64)}/stat`, 404, 'ERR_NOT_FOUND'],
      ['GET', `/v1/objects/${cid}0/stat`, 404, 'ERR_NOT_FOUND'],
      ['DELETE', '/v1/objects/..%2f..%2fapi-token', 404, 'ERR_NOT_FOUND'],
      ['DELETE', `/v1/objects/${cid.toUpperCase()}`, 404, 'ERR_NOT_FOUND'],
      // %2e%2e is a dot-dot segment to a URL parser: it climbs out of /v1/objects, to no route.
      ['POST', '/v1/objects/%2e%2e/share', 404, 'ERR_NO_ROUTE'],
      ['POST', '/v1/objects/a%2f..%2f..%2fb/share', 404, 'ERR_NOT_FOUND'],
      ['POST', `/v1/objects?name=${encodeURIComponent('€'.repeat(1_000))}`, 400, 'ERR_INVALID_NAME'],
      ['POST', `/v1/objects?name=${'n'.repeat(1_025)}`, 400, 'ERR_BAD_REQUEST'],
      ['POST', '/v1/objects?name=a%00b', 400, 'ERR_INVALID_NAME'],
      ['POST', '/v1/objects?name=%1b%5b2J', 400, 'ERR_INVALID_NAME'],
      ['POST', '/v1/objects?name=', 400, 'ERR_BAD_REQUEST'],
      ['POST', '/v1/objects?replication=99999999999999999999', 400, 'ERR_BAD_REQUEST'],
    ]
    for (let round = 0; round < rounds; round++) {
      for (const [method, path, status, code] of cases) {
        const answer = await raw(a, method, path, h, method === 'POST' ? `hostile ${tag}` : undefined)
        expect({ path: path.slice(0, 60), status: answer.status, code: errorCode(answer) }).toEqual({
          path: path.slice(0, 60),
          status,
          code: code ?? errorCode(answer),
        })
        figures.refused++
      }
    }
    // A name that looks like a path is a label: stored in the catalogue, never used as a file path.
    const escapeName = `../../../escape-${tag}`
    const put = await raw(a, 'POST', `/v1/objects?name=${encodeURIComponent(escapeName)}`, h, `label ${tag}`)
    expect(put.status).toBe(201)
    const got = await raw(a, 'GET', `/v1/objects/${encodeURIComponent(escapeName)}`, h)
    expect(got.body.toString()).toBe(`label ${tag}`)
    for (const base of [a.home, join(a.home, 'store'), join(a.home, 'store', 'self'), dir, tmpdir()]) {
      expect(existsSync(resolve(base, escapeName))).toBe(false)
    }
    // Ranges: malformed ones serve the whole object (RFC 9110), unsatisfiable ones 416, huge ends clamp.
    const size = known.bytes.length
    const ranges: [string, number, number][] = [
      ['bytes=abc', 200, size],
      ['bytes=0-1,5-9', 200, size],
      ['bytes=1e3-', 200, size],
      ['items=0-9', 200, size],
      ['bytes=5-2', 416, 0],
      ['bytes=-0', 416, 0],
      [`bytes=${size}-`, 416, 0],
      ['bytes=99999999999999999999999-', 416, 0],
      [`bytes=${'9'.repeat(4_000)}-`, 416, 0],
      ['bytes=0-99999999999999999999999', 206, size],
      ['bytes=-99999999999999999999', 206, size],
      ['bytes=10-19', 206, 10],
    ]
    for (const [range, status, length] of ranges) {
      const answer = await raw(a, 'GET', `/v1/objects/${cid}`, { ...h, range })
      expect({ range: range.slice(0, 40), status: answer.status, length: answer.body.length }).toEqual({
        range: range.slice(0, 40),
        status,
        length,
      })
      if (status === 206) {
        const start = range === 'bytes=10-19' ? 10 : 0
        expect(answer.body.equals(known.bytes.subarray(start, start + length))).toBe(true)
      }
    }
    // Nothing new or changed outside the store, the catalogue and the logs.
    expect(await filesOutsideStore(dir)).toEqual(before)
    await stillServes(a, b)
  })

  it(
    'gives the documented exit codes to hostile arguments of the cas binary',
    async () => {
      const dir = await cluster.dir()
      const before = await filesOutsideStore(dir)
      const file = join(scratch, 'input.bin')
      await writeFile(file, randomBytes(4096))
      const cases: [string[], number, NodeJS.ProcessEnv?][] = [
        [['get', '../../etc/passwd', '-o', join(scratch, 'out1')], EXIT_NOT_FOUND],
        [['get', '%2e%2e', '-o', join(scratch, 'out2')], EXIT_NOT_FOUND],
        [['get', 'x'.repeat(10_000), '-o', join(scratch, 'out3')], EXIT_NOT_FOUND],
        [['get', 'cas-cap2:garbage', '-o', join(scratch, 'out4')], EXIT_USAGE],
        [['rm', '../../api-token'], EXIT_NOT_FOUND],
        [['rm', known.cid.toUpperCase()], EXIT_NOT_FOUND],
        [['stat', 'zz'], EXIT_NOT_FOUND],
        [['share', `${known.cid}/../..`], EXIT_NOT_FOUND],
        [['put', file, '--name', '€'.repeat(1_000)], EXIT_USAGE],
        [['put', file, '--name', 'a\u001b[2Jb'], EXIT_USAGE],
        [['status'], EXIT_UNAUTHENTICATED, { CAS_TOKEN: 'wrong' }],
        [['get', known.cid, '-o', join(scratch, 'out5')], EXIT_UNAUTHENTICATED, { CAS_TOKEN: b.token }],
        [['put', file, '--name', `../../escape-cli`], EXIT_OK],
      ]
      for (let round = 0; round < rounds; round++) {
        for (const [args, code, env] of cases) {
          const r = await cas(args, env)
          expect({ args: args.join(' ').slice(0, 60), code: r.code }).toEqual({
            args: args.join(' ').slice(0, 60),
            code,
          })
          // One line on stderr says why; no stack traces.
          if (code !== EXIT_OK) expect(r.stderr).not.toMatch(/\n\s+at /)
        }
      }
      // A failed get leaves no file behind.
      for (const out of ['out1', 'out2', 'out3', 'out4', 'out5'])
        expect(existsSync(join(scratch, out))).toBe(false)
      expect(existsSync(resolve(scratch, '../../escape-cli'))).toBe(false)
      expect(await filesOutsideStore(dir)).toEqual(before)
      await stillServes(a, b)
    },
    60_000 + rounds * 30_000,
  ) // 13 runs of the binary a round, about 8 s here

  it('keeps a node with another network key, or none, out of the network', async () => {
    const logA = join(await cluster.dir(), 'a.log')
    const from = (await readLog(logA)).length
    const intruders = [
      await cluster.add({ name: 'other-key', args: ['--network-key', OTHER_KEY], bootstrap: [a.p2p, b.p2p] }),
    ]
    // The cluster-wide args carry the network key; a node without one is started with its own cluster.
    const keyless = new LocalCluster({ args: ['--replication', '1'] })
    try {
      intruders.push(await keyless.add({ name: 'no-key', bootstrap: [a.p2p, b.p2p] }))
      await waitForLog(
        logA,
        'a refusal for the network key',
        (l) => l.msg === 'connection refused' && JSON.stringify(l).includes('network key'),
        { from },
      )
      for (const intruder of intruders) {
        // Try again on demand: the refusal is the same every time.
        const res = await intruder.client
          .send('POST', '/v1/peers', { body: JSON.stringify({ addr: a.p2p }) })
          .then(
            () => 'joined',
            (err: { code?: string }) => err.code ?? 'failed',
          )
        expect(res).not.toBe('joined')
        expect(await LocalCluster.connectedPeers(intruder)).toBe(0)
        // An object put on the intruder stays there.
        const put = await putRandom(intruder, 4096)
        expect(put.replicas).toEqual([])
      }
      expect(await LocalCluster.connectedPeers(a)).toBe(1)
      await stillServes(a, b)
    } finally {
      await keyless.stop()
      for (const n of intruders) await n.process.stop()
    }
  })

  it('refuses a certificate of another node when a nodeId is expected', async () => {
    const identity = await createNodeIdentity()
    const dialer = new TcpTransport({ identity, tls: true, networkKey: Buffer.from(NETWORK_KEY, 'hex') })
    try {
      // a's address, b's id: what a stale peer record or a redirected address looks like.
      for (let round = 0; round < rounds; round++) {
        await expect(
          dialer.dial(a.p2p, { expectNodeId: b.process.info.nodeId, retries: 0 }),
        ).rejects.toMatchObject({
          code: 'ERR_HANDSHAKE',
          reason: 'unexpected-node-id',
        })
        figures.refused++
      }
      expect(dialer.peers()).toEqual([])
      // The right id on the right address is accepted: the refusal was about the certificate.
      const peer = await dialer.dial(a.p2p, { expectNodeId: a.process.info.nodeId, retries: 0 })
      expect(peer.nodeId).toBe(a.process.info.nodeId)
    } finally {
      await dialer.close()
    }
    await stillServes(a, b)
    reportFigures({
      fault: 'untrusted callers',
      iterations: rounds,
      objectsChecked: figures.objectsChecked,
      objectsLost: figures.objectsLost,
      corruptBytesReturned: figures.corruptBytes,
      httpRequests: figures.requests,
      refused: figures.refused,
      cliRuns: figures.cliRuns,
    })
    expect(figures.objectsLost).toBe(0)
    expect(figures.corruptBytes).toBe(0)
  })
})
