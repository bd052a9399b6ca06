import { afterEach, describe, expect, it, vi } from 'vitest'
import { Cluster } from './helpers/cluster.js'
import { randomFile } from './helpers/data.js'

// Every catalogue in this file is wrapped: each commit and each completed flush is recorded, in order.
const events = vi.hoisted(() => [] as string[])
vi.mock('lmdb', async (importOriginal) => {
  const real = await importOriginal<typeof import('lmdb')>()
  const open = (...args: Parameters<typeof real.open>) => {
    const db = real.open(...args)
    const transaction = db.transaction.bind(db)
    db.transaction = (<T>(body: () => T) =>
      transaction(body).then((r) => {
        events.push('commit')
        return r
      })) as typeof db.transaction
    const flushed = db.flushed
    // A real promise in place of lmdb's thenable: it settles when lmdb's flush does, and says so.
    Object.defineProperty(db, 'flushed', {
      get: () =>
        Promise.resolve(flushed).then(() => {
          events.push('flushed')
        }),
    })
    return db
  }
  return { ...real, open }
})

/** Whether every commit recorded before `ack` was followed by a completed flush before it. */
function flushedBeforeAck(log: string[]): boolean {
  const ack = log.indexOf('ack')
  const lastCommit = log.lastIndexOf('commit', ack)
  return lastCommit >= 0 && log.slice(lastCommit, ack).includes('flushed')
}

describe('catalogue durability', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('acknowledges a put, its holders’ stores and a delete only once their records are flushed', async () => {
    cluster = new Cluster('memory')
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    events.length = 0
    const { cid, replicas } = await a!.server.put(randomFile(20_000), { name: 'flushed' })
    events.push('ack')
    expect(replicas).toEqual([b!.server.nodeId])
    expect(events.filter((e) => e === 'commit').length).toBeGreaterThanOrEqual(2) // owner's record, holder's
    expect(flushedBeforeAck(events)).toBe(true)

    events.length = 0
    await a!.server.delete(cid)
    events.push('ack')
    expect(flushedBeforeAck(events)).toBe(true)
  })
})
