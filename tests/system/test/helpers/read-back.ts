import type { ClusterNode } from '@cas/test-kit'
import { expect } from 'vitest'
import { corruptBytes, evictLocal, getBytes } from '../../src/object-io.js'

/**
 * Drops the owner's local copy and gets the object again, so that its bytes come from a replica on a
 * peer; expects them to be the bytes put, and returns how many were wrong (for the figures).
 */
export async function readBackFromReplica(
  owner: ClusterNode,
  object: { data: Buffer; cid: string },
): Promise<number> {
  await evictLocal(owner, object.cid)
  const got = await getBytes(owner, object.cid)
  const corrupt = corruptBytes(got, object.data)
  expect(got.equals(object.data)).toBe(true)
  return corrupt
}
