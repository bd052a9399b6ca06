import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { DeleteResultSchema, PutResultSchema } from '@cas/api'
import { cidOf } from '@cas/crypto'
import type { ClusterNode } from '@cas/test-kit'
import type { PutResult } from './node-api.js'

/** Random bytes and their cid. */
export function randomObject(size: number): { data: Buffer; cid: string } {
  const data = randomBytes(size)
  return { data, cid: cidOf(data) }
}

/** Puts `data` through the node's HTTP API, streamed. */
export function putBytes(
  node: ClusterNode,
  data: Buffer,
  opts: { signal?: AbortSignal } = {},
): Promise<PutResult> {
  return node.client.json(PutResultSchema, 'POST', '/v1/objects', {
    body: Readable.from([data]),
    ...(opts.signal && { signal: opts.signal }),
  })
}

/** Gets an object through the node's HTTP API; resolves with every byte the node sent. */
export async function getBytes(
  node: ClusterNode,
  cid: string,
  opts: { signal?: AbortSignal } = {},
): Promise<Buffer> {
  const res = await node.client.send('GET', `/v1/objects/${cid}`, opts.signal ? { signal: opts.signal } : {})
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Drops only the node's local plaintext, so that the next get must fetch a replica from a peer. */
export async function evictLocal(node: ClusterNode, cid: string): Promise<void> {
  await node.client.json(DeleteResultSchema, 'DELETE', `/v1/objects/${cid}?local=1`)
}

/** Bytes of `got` that differ from `want` where both have them: wrong bytes served, not missing ones. */
export function corruptBytes(got: Buffer, want: Buffer): number {
  const common = Math.min(got.length, want.length)
  if (got.subarray(0, common).equals(want.subarray(0, common))) return 0
  let n = 0
  for (let i = 0; i < common; i++) if (got[i] !== want[i]) n++
  return n
}
