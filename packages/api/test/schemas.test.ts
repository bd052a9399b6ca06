import { describe, expect, it } from 'vitest'
import {
  ObjectInfoSchema,
  PeerInfoSchema,
  PutResultSchema,
  StatusSchema,
  TransferSchema,
} from '../src/index.js'

const cid = 'a'.repeat(64)

describe('the answer schemas', () => {
  it('accept fields a newer node adds, and fill the defaults of fields an older one lacks', () => {
    const put = PutResultSchema.parse({
      cid,
      size: 3,
      replicas: [],
      wanted: 2,
      underReplicated: true,
      extra: 1,
    })
    expect(put).toMatchObject({ refused: [], extra: 1 })
    const peer = PeerInfoSchema.parse({ nodeId: cid, connected: false })
    expect(peer).toMatchObject({ bytesIn: 0, bytesOut: 0, holds: { objects: 0, bytes: 0 } })
  })

  it('refuse a missing or mistyped field', () => {
    expect(ObjectInfoSchema.safeParse({ cid, size: -1 }).success).toBe(false)
    expect(
      PutResultSchema.safeParse({ cid: 'not-hex', size: 1, replicas: [], wanted: 1, underReplicated: false })
        .success,
    ).toBe(false)
    expect(
      StatusSchema.safeParse({ nodeId: cid, ownerId: cid, listenAddr: 'x', peers: {}, objects: 0, bytes: 0 })
        .success,
    ).toBe(false)
    expect(
      TransferSchema.safeParse({ id: 't1', kind: 'teleport', state: 'active', bytes: 0, startedAt: 0 })
        .success,
    ).toBe(false)
  })
})
