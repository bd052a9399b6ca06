import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ApiClient, ApiError, FileBody } from '../src/client.js'

const MiB = 1024 * 1024
const Received = z.object({ length: z.string(), size: z.number(), sha256: z.string() })

let server: Server | undefined
let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cas-file-body-'))
})
afterEach(async () => {
  server?.closeAllConnections()
  server?.close()
  server = undefined
  await rm(dir, { recursive: true, force: true })
})

async function serve(
  handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void,
): Promise<string> {
  server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Answers with the body's content-length header, how many bytes came and their SHA-256. */
async function digestServer(): Promise<string> {
  return serve((req, res) => {
    const hash = createHash('sha256')
    let size = 0
    req.on('data', (piece: Buffer) => {
      size += piece.byteLength
      hash.update(piece)
    })
    req.on('end', () => {
      res.end(JSON.stringify({ length: req.headers['content-length'], size, sha256: hash.digest('hex') }))
    })
  })
}

describe('FileBody', () => {
  it("sends a file's first `size` bytes with its content-length, reporting each piece", async () => {
    const url = await digestServer()
    const bytes = randomBytes(9 * MiB + 12_345)
    await writeFile(join(dir, 'f'), bytes)
    const file = await open(join(dir, 'f'), 'r')
    try {
      let reported = 0
      const all = new FileBody(file, bytes.byteLength, (n) => {
        reported += n
      })
      const got = await new ApiClient({ url }).json(Received, 'POST', '/v1/objects', { body: all })
      expect(got).toEqual({
        length: String(bytes.byteLength),
        size: bytes.byteLength,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      })
      expect(reported).toBe(bytes.byteLength)
      // A size below the file's: only that much is sent (what the file grew by is not).
      const part = 3 * MiB + 1
      const head = await new ApiClient({ url }).json(Received, 'POST', '/v1/objects', {
        body: new FileBody(file, part),
      })
      expect(head.size).toBe(part)
      expect(head.sha256).toBe(createHash('sha256').update(bytes.subarray(0, part)).digest('hex'))
      const none = await new ApiClient({ url }).json(Received, 'POST', '/v1/objects', {
        body: new FileBody(file, 0),
      })
      expect(none).toMatchObject({ length: '0', size: 0 })
    } finally {
      await file.close()
    }
  })

  it('fails with ERR_FILE_CHANGED when the file is shorter than its size said', async () => {
    const url = await digestServer()
    await writeFile(join(dir, 'f'), randomBytes(2 * MiB))
    const file = await open(join(dir, 'f'), 'r')
    try {
      const err = await new ApiClient({ url })
        .json(Received, 'POST', '/v1/objects', { body: new FileBody(file, 5 * MiB) })
        .catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'ERR_FILE_CHANGED' })
      expect((err as Error).message).toMatch(/ended after 2097152 of its 5242880 bytes/)
    } finally {
      await file.close()
    }
  })

  it('stops sending when the node refuses the upload early, and rejects with its answer', async () => {
    let received = 0
    const url = await serve((req, res) => {
      req.on('data', (piece: Buffer) => {
        received += piece.byteLength
      })
      res.writeHead(507, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 'ERR_STORE_FULL', message: 'no room' } }))
    })
    const size = 256 * MiB
    const file = await open(join(dir, 'sparse'), 'w+')
    try {
      await file.truncate(size)
      const err = await new ApiClient({ url })
        .json(Received, 'POST', '/v1/objects', { body: new FileBody(file, size) })
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ApiError)
      expect(err).toMatchObject({ status: 507, code: 'ERR_STORE_FULL' })
      expect(received).toBeLessThan(size)
    } finally {
      await file.close()
    }
  })
})
