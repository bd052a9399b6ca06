import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { cidOf } from '@cas/crypto'
import { casPathTransform } from '@cas/store'
import { afterEach, describe, expect, it } from 'vitest'
import { auth, Harness, http, TEST_ARGS } from './helpers/harness.js'

const harness = new Harness()
afterEach(() => harness.cleanup())

const mode = async (path: string) => (await stat(path)).mode & 0o777

describe('cas-node daemon', () => {
  it('creates owner key, node certificate and a private API token on first start', async () => {
    const home = join(await harness.tempDir(), 'fresh-home')
    const node = await harness.start(home)
    expect(await mode(join(home, 'owner.key'))).toBe(0o600)
    expect(await mode(join(home, 'node.key'))).toBe(0o600)
    expect(await mode(join(home, 'api-token'))).toBe(0o600)
    expect(node.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(node.info.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(node.info.p2p).toMatch(/^127\.0\.0\.1:\d+$/)
    const health = await http(`${node.info.api}/healthz`)
    expect(health.status).toBe(200)
  })

  it('tightens a data folder open to others, and writes its catalogue and objects for the user alone', async () => {
    const home = join(await harness.tempDir(), 'loose-home')
    await mkdir(home, { mode: 0o755 })
    await chmod(home, 0o755)
    const node = await harness.start(home)
    expect(await mode(home)).toBe(0o700)
    // A small object goes to a pack, a large one to a file of its own: both for the user alone.
    const put = await http(`${node.info.api}/v1/objects?name=private`, {
      method: 'POST',
      headers: auth(node),
      body: randomBytes(200_000),
    })
    expect(put.status).toBe(201)
    const small = await http(`${node.info.api}/v1/objects?name=small`, {
      method: 'POST',
      headers: auth(node),
      body: randomBytes(1000),
    })
    expect(small.status).toBe(201)
    const { cid } = put.json<{ cid: string }>()
    expect(await mode(join(home, 'catalogue', 'catalogue.lmdb'))).toBe(0o600)
    const object = join(home, 'store', 'self', ...casPathTransform(cid).split('/'))
    expect((await mode(object)) & 0o077).toBe(0)
    const packs = join(home, 'store', '.packs')
    expect((await mode(packs)) & 0o077).toBe(0)
    const packFiles = await readdir(packs)
    expect(packFiles.length).toBeGreaterThan(0)
    for (const f of packFiles) expect((await mode(join(packs, f))) & 0o077).toBe(0)
  })

  it('keeps its data, keys and identity across a kill and a restart', async () => {
    const home = await harness.tempDir()
    const first = await harness.start(home)
    const data = randomBytes(300_000)
    const put = await http(`${first.info.api}/v1/objects?name=kept`, {
      method: 'POST',
      headers: auth(first),
      body: data,
    })
    expect(put.status).toBe(201)
    const { cid } = put.json<{ cid: string }>()
    first.child.kill('SIGKILL')
    await first.exit

    const second = await harness.start(home)
    expect(second.info.nodeId).toBe(first.info.nodeId)
    expect(second.info.ownerId).toBe(first.info.ownerId)
    expect(second.token).toBe(first.token)
    const got = await http(`${second.info.api}/v1/objects/kept`, { headers: auth(second) })
    expect(got.status).toBe(200)
    expect(cidOf(got.body)).toBe(cid)
  })

  it('stops on SIGTERM with exit code 0 and removes its node.json', async () => {
    const home = await harness.tempDir()
    const node = await harness.start(home)
    node.child.kill('SIGTERM')
    expect(await node.exit).toEqual({ code: 0, signal: null })
    await expect(readFile(join(home, 'node.json'))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(node.output()).toContain('node stopped')
  })

  it('lets an upload in progress finish before it exits on SIGINT', async () => {
    const home = await harness.tempDir()
    const node = await harness.start(home, undefined, { CAS_LOG_LEVEL: 'debug' })
    const { request } = await import('node:http')
    const data = randomBytes(4 * 1024 * 1024)
    const req = request(`${node.info.api}/v1/objects`, {
      method: 'POST',
      headers: { ...auth(node), 'content-length': String(data.length) },
      agent: false,
    })
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let body = ''
        res.on('data', (d: Buffer) => {
          body += d.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
    })
    // Half the body is on its way when the signal arrives; the rest follows after it.
    await new Promise<void>((resolve) => req.write(data.subarray(0, data.length / 2), () => resolve()))
    await waitForLog(/"msg":"request started"/, node.output)
    node.child.kill('SIGINT')
    await waitForLog(/"msg":"stopping"/, node.output)
    req.end(data.subarray(data.length / 2))
    const res = await response
    expect(res.status).toBe(201)
    expect(JSON.parse(res.body)).toMatchObject({
      cid: cidOf(data),
      size: data.length,
    })
    expect(await node.exit).toEqual({ code: 0, signal: null })
  })
})

describe('cas-node shutdown deadline', () => {
  it('aborts an upload that does not finish within --shutdown-timeout, exits 0 and restarts clean', async () => {
    const home = await harness.tempDir()
    const args = [...TEST_ARGS, '--shutdown-timeout', '500ms']
    const node = await harness.start(home, args, { CAS_LOG_LEVEL: 'debug' })
    const { request } = await import('node:http')
    const req = request(`${node.info.api}/v1/objects?name=never-finished`, {
      method: 'POST',
      headers: { ...auth(node), 'content-length': String(64 * 1024 * 1024) },
      agent: false,
    })
    const failed = new Promise<Error>((resolve) => req.on('error', resolve))
    await new Promise<void>((resolve) => req.write(randomBytes(1024 * 1024), () => resolve()))
    await waitForLog(/"msg":"request started"/, node.output)
    node.child.kill('SIGTERM')
    expect(await node.exit).toEqual({ code: 0, signal: null })
    expect(await failed).toMatchObject({ code: 'ECONNRESET' })

    const again = await harness.start(home)
    const list = await http(`${again.info.api}/v1/objects`, { headers: auth(again) })
    expect(list.json()).toEqual([])
  })
})

async function waitForLog(pattern: RegExp, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!pattern.test(output())) {
    if (Date.now() > deadline) throw new Error(`log line ${pattern} not seen: ${output()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
