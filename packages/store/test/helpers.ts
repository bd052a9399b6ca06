import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { afterEach } from 'vitest'

const roots: string[] = []

/** A fresh temporary folder, removed after the test. */
export async function tempDir(prefix = 'cas-store-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  roots.push(dir)
  return dir
}

afterEach(async () => {
  await Promise.all(roots.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Random bytes as a stream of pieces, hashed as they are produced. */
export function randomSource(
  total: number,
  piece = 1024 * 1024,
): { source: AsyncIterable<Uint8Array>; digest: () => string } {
  const hash = createHash('sha256')
  let digest: string | undefined
  async function* source(): AsyncGenerator<Uint8Array> {
    for (let left = total; left > 0; left -= piece) {
      const chunk = randomBytes(Math.min(piece, left))
      hash.update(chunk)
      yield chunk
    }
    digest = hash.digest('hex')
  }
  return {
    source: source(),
    digest: () => {
      if (digest === undefined) throw new Error('source not fully consumed')
      return digest
    },
  }
}

export async function hashStream(stream: Readable): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of stream) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).byteLength
  }
  return { digest: hash.digest('hex'), size }
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Every file below a folder, as paths relative to it. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
}
