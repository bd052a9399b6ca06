import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StatusSchema } from '@cas/api'
import { afterEach, describe, expect, it } from 'vitest'
import {
  LocalCluster,
  NodeStartError,
  seededBuffer,
  seededCid,
  startNodeProcess,
  until,
  waitFor,
  writeSeededFile,
} from '../src/index.js'

describe('LocalCluster', () => {
  let cluster: LocalCluster | undefined
  afterEach(async () => {
    await cluster?.stop()
    cluster = undefined
  })

  it('starts nodes as processes that find each other, and removes its folder on stop', async () => {
    cluster = new LocalCluster()
    const a = await cluster.add()
    const b = await cluster.add()
    await until('the two nodes to connect', async () => (await LocalCluster.connectedPeers(b)) === 1, 15_000)
    const status = await a.client.json(StatusSchema, 'GET', '/v1/status')
    expect(status.pid).toBe(a.pid)
    const dir = await cluster.dir()
    await cluster.stop()
    cluster = undefined
    expect(existsSync(dir)).toBe(false)
    expect(a.process.child.exitCode).toBe(0)
  })
})

describe('startNodeProcess', () => {
  it('names the log when the node exits at start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cas-kit-'))
    try {
      const started = startNodeProcess({
        home: join(dir, 'home'),
        logFile: join(dir, 'node.log'),
        args: ['--replication', 'zero'],
      })
      await expect(started).rejects.toBeInstanceOf(NodeStartError)
      await expect(started).rejects.toThrow(/exited/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('waitFor', () => {
  it('returns the first defined value and names what it waited for on timeout', async () => {
    let calls = 0
    expect(await waitFor(async () => (++calls >= 3 ? calls : undefined), 1000)).toBe(3)
    await expect(waitFor(async () => undefined, 50, 'nothing')).rejects.toThrow(/waiting for nothing/)
  })
})

describe('seeded data', () => {
  it('is the same for a seed, streams to a file of the asked size, and has the cid of its bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cas-kit-'))
    try {
      const size = 3 * 1024 * 1024 + 5
      await writeSeededFile(join(dir, 'f'), 'seed', size)
      expect((await stat(join(dir, 'f'))).size).toBe(size)
      const bytes = await readFile(join(dir, 'f'))
      expect(bytes.equals(seededBuffer('seed', size))).toBe(true)
      expect(bytes.equals(seededBuffer('other', size))).toBe(false)
      const { cidOf } = await import('@cas/crypto')
      expect(await seededCid('seed', size)).toBe(cidOf(bytes))
      // A slice from any offset is the same bytes, computed from there (the counter carried across bytes).
      for (const start of [1, 15, 16, 17, 4095, 70_001, 1024 * 1024 + 3, 3 * 1024 * 1024 - 100]) {
        expect(seededBuffer('seed', 105, start).equals(bytes.subarray(start, start + 105))).toBe(true)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
