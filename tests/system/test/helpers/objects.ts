import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { PutResultSchema } from '@cas/api'
import type { ClusterNode } from '@cas/test-kit'

export interface StoredObject {
  cid: string
  bytes: Buffer
}

/** The cid of some bytes, as a node names them. */
export { cidOf } from '@cas/crypto'

/** Puts random bytes through a node's HTTP API; returns the put result and the bytes. */
export async function putRandom(node: ClusterNode, size: number, replication: number | 'all' = 1) {
  const bytes = randomBytes(size)
  const result = await node.client.json(PutResultSchema, 'POST', `/v1/objects?replication=${replication}`, {
    body: Readable.from([bytes]),
  })
  return { ...result, bytes }
}

/** Bytes that differ between what came back and what was put (a length difference counts in full). */
export function corruptBytes(got: Uint8Array, want: Uint8Array): number {
  let bad = Math.abs(got.length - want.length)
  const n = Math.min(got.length, want.length)
  for (let i = 0; i < n; i++) if (got[i] !== want[i]) bad++
  return bad
}

/** True while the process has not exited (signal 0 only checks that it exists). */
export function isAlive(node: ClusterNode): boolean {
  if (node.process.child.exitCode !== null || node.process.child.signalCode !== null) return false
  try {
    process.kill(node.pid, 0)
    return true
  } catch {
    return false
  }
}
