import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import * as z from 'zod'
import { ApiClient, ApiError, ClientError, NodeUnreachableError } from '../src/client.js'
import { EXIT_NO_NODE, EXIT_NOT_FOUND, StatusSchema } from '../src/index.js'
import { readRuntimeInfo, readToken, removeRuntimeInfo, writeRuntimeInfo } from '../src/runtime-info.js'

let server: Server | undefined
let tcpServer: TcpServer | undefined
afterEach(async () => {
  server?.close()
  server = undefined
  tcpServer?.close()
  tcpServer = undefined
})

/**
 * An HTTP server that answers the first request on each connection (keeping the connection alive)
 * and closes the connection when a second request arrives on it: what a node's keep-alive timeout
 * does to a client that sends on an idle connection the moment the node gives up on it.
 */
async function closingOnReuse(): Promise<{ url: string; connections: () => number; answered: string[] }> {
  let connections = 0
  const answered: string[] = []
  tcpServer = createTcpServer((socket) => {
    connections += 1
    let served = false
    let head = ''
    socket.on('data', (data: Buffer) => {
      if (served) {
        socket.destroy()
        return
      }
      head += data.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      served = true
      answered.push(head.slice(0, head.indexOf('\r\n')))
      const body = JSON.stringify({ ok: true })
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`,
      )
    })
  })
  tcpServer.listen(0, '127.0.0.1')
  await once(tcpServer, 'listening')
  const url = `http://127.0.0.1:${(tcpServer.address() as AddressInfo).port}`
  return { url, connections: () => connections, answered }
}

const OkSchema = z.object({ ok: z.literal(true) })

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('ApiClient', () => {
  it('sends the token and parses the answer with the schema', async () => {
    let auth: string | undefined
    const url = await serve((req, res) => {
      auth = req.headers.authorization
      res.end(JSON.stringify({ nodeId: 'b'.repeat(64) }))
    })
    const client = new ApiClient({ url, token: 'secret' })
    await expect(client.json(StatusSchema, 'GET', '/v1/status')).rejects.toMatchObject({
      code: 'ERR_BAD_RESPONSE',
    })
    expect(auth).toBe('Bearer secret')
  })

  it("turns an error answer into an ApiError with the node's code, status and exit code", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 'ERR_NOT_FOUND', message: 'no such object' } }))
    })
    const err = await new ApiClient({ url }).send('GET', '/v1/objects/x').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toBeInstanceOf(ClientError)
    expect(err).toMatchObject({
      status: 404,
      code: 'ERR_NOT_FOUND',
      exitCode: EXIT_NOT_FOUND,
      message: 'no such object',
    })
  })

  it('says no node answers when nothing listens at the address', async () => {
    const url = await serve(() => undefined)
    server?.close()
    await once(server as Server, 'close')
    const err = await new ApiClient({ url }).send('GET', '/v1/status').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NodeUnreachableError)
    expect((err as NodeUnreachableError).exitCode).toBe(EXIT_NO_NODE)
  })
})

describe('ApiClient on a connection the node has closed', () => {
  it('sends a request again on a new connection when its kept-alive one was closed as it went out', async () => {
    const node = await closingOnReuse()
    const client = new ApiClient({ url: node.url })
    await expect(client.json(OkSchema, 'GET', '/v1/status')).resolves.toEqual({ ok: true })
    await expect(client.json(OkSchema, 'GET', '/v1/objects')).resolves.toEqual({ ok: true })
    await expect(client.json(OkSchema, 'POST', '/v1/objects', { body: new Uint8Array(10) })).resolves.toEqual(
      {
        ok: true,
      },
    )
    expect(node.connections()).toBe(3)
    expect(node.answered).toEqual([
      'GET /v1/status HTTP/1.1',
      'GET /v1/objects HTTP/1.1',
      'POST /v1/objects HTTP/1.1',
    ])
  })

  it('does not send a streamed body twice: the failure is reported', async () => {
    const node = await closingOnReuse()
    const client = new ApiClient({ url: node.url })
    await client.json(OkSchema, 'GET', '/v1/status')
    const err = await client
      .json(OkSchema, 'POST', '/v1/objects', { body: Readable.from([Buffer.alloc(10)]) })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClientError)
    expect(err).toMatchObject({ code: 'ERR_HTTP' })
    expect(node.connections()).toBe(1)
    expect(node.answered).toEqual(['GET /v1/status HTTP/1.1'])
  })
})

describe('runtime info', () => {
  it("writes and reads a node's node.json and its token, and ignores a damaged file", async () => {
    const home = await mkdtemp(join(tmpdir(), 'cas-api-'))
    try {
      expect(await readRuntimeInfo(home)).toBeUndefined()
      const info = {
        pid: process.pid,
        nodeId: 'c'.repeat(64),
        ownerId: 'd'.repeat(64),
        p2p: '127.0.0.1:3000',
        api: 'http://127.0.0.1:3001',
        startedAt: new Date().toISOString(),
        version: '0.1.0',
      }
      await writeRuntimeInfo(home, info)
      expect(await readRuntimeInfo(home)).toEqual(info)
      await writeFile(join(home, 'node.json'), '{"pid": "nope"')
      expect(await readRuntimeInfo(home)).toBeUndefined()
      await removeRuntimeInfo(home)
      await writeFile(join(home, 'api-token'), 'tok\n')
      expect(await readToken(home)).toBe('tok')
    } finally {
      await rm(home, { recursive: true, force: true })
    }
  })
})
