import { PeerInfoSchema, PeerListSchema } from '@cas/api'
import { afterEach, describe, expect, it } from 'vitest'
import { Cluster, cas } from './helpers/cluster.js'

const cluster = new Cluster()
afterEach(() => cluster.stop(), 60_000)

describe('cas peers add', () => {
  it('connects two nodes that started without bootstrap peers', async () => {
    const a = await cluster.add([], [])
    const b = await cluster.add([], [])
    const before = PeerListSchema.parse(
      JSON.parse((await cas(['--json', 'peers'], { env: cluster.envFor(b) })).text),
    )
    expect(before).toEqual([])
    const r = await cas(['--json', 'peers', 'add', a.info.p2p], { env: cluster.envFor(b) })
    expect(r.code).toBe(0)
    expect(PeerInfoSchema.parse(JSON.parse(r.text))).toMatchObject({ nodeId: a.info.nodeId, connected: true })
    const after = PeerListSchema.parse(
      JSON.parse((await cas(['--json', 'peers'], { env: cluster.envFor(b) })).text),
    )
    expect(after).toEqual([expect.objectContaining({ nodeId: a.info.nodeId, connected: true })])
  })

  it('refuses an address that is not host:port with a usage error', async () => {
    const r = await cas(['peers', 'add', 'not-an-address'], { env: { CAS_API: 'http://127.0.0.1:1' } })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('not a peer address')
  })
})
