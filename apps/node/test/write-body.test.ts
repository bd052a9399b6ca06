import { createHash, randomBytes } from 'node:crypto'
import { createServer, get, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { writeBody } from '../src/http/write-body.js'

const MiB = 1024 * 1024

let server: Server | undefined

afterEach(async () => {
  const s = server
  server = undefined
  if (!s) return
  s.closeAllConnections()
  await new Promise<void>((resolve) => s.close(() => resolve()))
})

/** A server whose every GET answers 200 with `body` through writeBody; `settled` gets its outcome. */
async function serve(body: () => AsyncGenerator<Uint8Array>): Promise<{
  url: string
  settled: Promise<unknown>
}> {
  let settle: (outcome: unknown) => void = () => undefined
  const settled = new Promise<unknown>((resolve) => {
    settle = resolve
  })
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    writeBody(body(), res).then(
      () => settle('finished'),
      (err: unknown) => settle(err),
    )
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, settled }
}

function request(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url, resolve).on('error', reject))
}

describe('writeBody', () => {
  it('sends every chunk, taking the backpressure of a slow reader, and resolves once finished', async () => {
    const chunks = Array.from({ length: 24 }, () => randomBytes(MiB))
    const { url, settled } = await serve(async function* () {
      yield* chunks
    })
    const res = await request(url)
    const hash = createHash('sha256')
    let received = 0
    for await (const part of res as AsyncIterable<Buffer>) {
      hash.update(part)
      received += part.byteLength
    }
    expect(received).toBe(24 * MiB)
    expect(hash.digest('hex')).toBe(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'))
    expect(await settled).toBe('finished')
  })

  it('cuts the response when the body fails, and rejects with its error', async () => {
    const { url, settled } = await serve(async function* () {
      yield randomBytes(1024)
      throw new Error('chunk 1 does not verify')
    })
    // Cut before its last chunk (or before its head left): the client sees the answer fail, never an end.
    const outcome = await request(url).then(
      (res) =>
        new Promise<string>((resolve) => {
          res.on('error', () => resolve('error'))
          res.on('end', () => resolve('end'))
          res.resume()
        }),
      () => 'error',
    )
    expect(outcome).toBe('error')
    expect(await settled).toMatchObject({ message: 'chunk 1 does not verify' })
  })

  it('stops the body when the client goes away, and rejects', async () => {
    let made = 0
    let closed = false
    const { url, settled } = await serve(async function* () {
      try {
        for (; made < 1024; made++) yield randomBytes(MiB)
      } finally {
        closed = true
      }
    })
    const res = await request(url)
    await new Promise<void>((resolve) => res.once('data', () => resolve()))
    res.destroy()
    expect(await settled).toMatchObject({ message: expect.stringMatching(/went away/) })
    expect(closed).toBe(true)
    // The socket's buffers hold a few MiB at most: far from the 1 GiB the body could have made.
    expect(made).toBeLessThan(128)
  })
})
