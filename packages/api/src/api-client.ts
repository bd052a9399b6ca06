import { type IncomingMessage, request } from 'node:http'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { z } from 'zod'
import { ApiError, ClientError, NodeUnreachableError } from './client-errors.js'

export interface SendOptions {
  body?: Readable | string
  headers?: Record<string, string>
  signal?: AbortSignal
}

const MAX_ERROR_BODY = 64 * 1024

/** Where a node's API answers, and its bearer token. */
export interface ApiConnection {
  url: string
  token?: string | undefined
}

/** A client of the node's HTTP API: streams bodies both ways, turns error answers into ApiError. */
export class ApiClient {
  constructor(readonly connection: ApiConnection) {}

  /** Sends a request; resolves with a response whose status is below 400. */
  send(method: string, path: string, opts: SendOptions = {}): Promise<IncomingMessage> {
    const { url, token } = this.connection
    return new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { ...opts.headers }
      if (token) headers.authorization = `Bearer ${token}`
      if (typeof opts.body === 'string') {
        headers['content-type'] = 'application/json'
        headers['content-length'] = String(Buffer.byteLength(opts.body))
      }
      // agent: false — one connection per request, so no idle socket keeps the process alive.
      const req = request(`${url}${path}`, {
        method,
        headers,
        agent: false,
        ...(opts.signal && { signal: opts.signal }),
      })
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EADDRNOTAVAIL') {
          reject(new NodeUnreachableError(url, { cause: err }))
        } else {
          reject(
            new ClientError('ERR_HTTP', `the request to ${url} failed: ${err.message}`, undefined, {
              cause: err,
            }),
          )
        }
      })
      req.on('response', (res) => {
        if ((res.statusCode ?? 500) < 400) {
          resolve(res)
          return
        }
        // The node refused: read why, then stop sending (a big upload may still be flowing).
        readErrorBody(res).catch((err: unknown) => {
          if (opts.body && typeof opts.body !== 'string') opts.body.destroy()
          reject(err)
        })
      })
      if (opts.body === undefined) req.end()
      else if (typeof opts.body === 'string') req.end(opts.body)
      else {
        pipeline(opts.body, req).catch((err: unknown) => {
          // A refused upload ends the request early; the response carries the reason.
          if (!req.destroyed) req.destroy(err as Error)
        })
      }
    })
  }

  /** Sends a request and parses its JSON answer with `schema`. */
  async json<T>(schema: z.ZodType<T>, method: string, path: string, opts: SendOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts)
    const text = await readText(res, 64 * 1024 * 1024)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw new ClientError(
        'ERR_BAD_RESPONSE',
        `the node sent a response that is not JSON for ${method} ${path}`,
      )
    }
    const parsed = schema.safeParse(value)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new ClientError(
        'ERR_BAD_RESPONSE',
        `the node's answer to ${method} ${path} is not what this cas expects (${issue?.path.join('.')}: ${issue?.message}); are the node and the CLI the same version?`,
      )
    }
    return parsed.data
  }
}

async function readText(res: IncomingMessage, limit: number): Promise<string> {
  const parts: Buffer[] = []
  let size = 0
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw new ClientError('ERR_BAD_RESPONSE', `the node's answer exceeds ${limit} bytes`)
    parts.push(chunk)
  }
  return Buffer.concat(parts).toString('utf8')
}

async function readErrorBody(res: IncomingMessage): Promise<never> {
  const status = res.statusCode ?? 500
  let code = `HTTP_${status}`
  let message = `the node answered ${status} ${res.statusMessage ?? ''}`.trim()
  try {
    const body = JSON.parse(await readText(res, MAX_ERROR_BODY)) as {
      error?: { code?: unknown; message?: unknown }
    }
    if (typeof body.error?.code === 'string') code = body.error.code
    if (typeof body.error?.message === 'string') message = body.error.message
  } catch {
    // not our JSON error shape: keep the status line
  }
  throw new ApiError(status, code, message)
}
