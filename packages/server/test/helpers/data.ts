import { createHash, randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'

export { cidOf } from '@cas/crypto'

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

export async function readAll(stream: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array))
  return Buffer.concat(parts)
}

/** Random bytes whose content (so cid and locator) differ on every call. */
export function randomFile(size: number): Buffer {
  return randomBytes(size)
}
