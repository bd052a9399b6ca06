import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { RepairSchema, StopResultSchema } from '@cas/api'
import { afterAll, describe, expect, it } from 'vitest'
import { Cluster, cas, waitFor } from './helpers/cluster.js'

const cluster = new Cluster()
afterAll(() => cluster.stop(), 60_000)

describe('cas repair and cas stop', () => {
  it('repair runs a pass now and reports it: a put with R=2 on three nodes is healthy', async () => {
    const a = await cluster.add(['--replication', '2'])
    await cluster.add(['--replication', '2'])
    await cluster.add(['--replication', '2'])
    await waitFor(async () => {
      const r = await cas(['--json', 'status'], { env: cluster.envFor(a) })
      return JSON.parse(r.text).peers.connected >= 2 ? true : undefined
    }, 30_000)
    const put = await cas(['put', '-'], { env: cluster.envFor(a), input: randomBytes(100_000) })
    expect(put.code).toBe(0)
    const r = await cas(['--json', 'repair'], { env: cluster.envFor(a) })
    expect(r.code).toBe(0)
    const result = RepairSchema.parse(JSON.parse(r.text))
    expect(result).toMatchObject({ healthy: 1, underReplicated: 0, repairing: 0 })
    // the pass is over: no progress is left in the answer
    expect(result.pass).toBeUndefined()
    const human = await cas(['repair'], { env: cluster.envFor(a) })
    expect(human.stderr).toBe('repair: 1 healthy, 0 under-replicated\n')
  }, 60_000)

  it('stop makes the node finish and exit 0, removing its node.json, and waits until it has gone', async () => {
    const node = await cluster.add()
    const exited = once(node.child, 'exit')
    const r = await cas(['--json', 'stop'], { env: cluster.envFor(node) })
    expect(r.code).toBe(0)
    expect(StopResultSchema.parse(JSON.parse(r.text))).toEqual({ stopping: true, pid: node.info.pid })
    // cas stop returned only once the API stopped answering; the process exits with 0.
    expect(await exited).toEqual([0, null])
    await expect(access(join(node.home, 'node.json'))).rejects.toMatchObject({ code: 'ENOENT' })
    const again = await cas(['stop'], { env: cluster.envFor(node) })
    expect(again.code).toBe(5) // no node answers
  }, 60_000)
})
