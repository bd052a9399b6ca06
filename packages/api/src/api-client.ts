import { type IncomingMessage, request } from 'node:http'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { z } from 'zod'
import { ApiError, ClientError, NodeUnreachableError } from './client-errors.js'
import { FileBody, sendFile } from './file-body.js'

export interface SendOptions {
  /** A stream, JSON text (sent as application/json), bytes in memory (sent in one write), or a file. */
  body?: Readable | string | Uint8Array | FileBody
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

  /**
   * Sends a request; resolves with a response whose status is below 400. A request that fails because
   * the kept-alive connection it went out on had been closed by the node meanwhile (the node closes idle
   * ones after its keep-alive timeout; a client whose event loop was busy may not have seen it yet) is
   * sent once more on a new connection when its body can be sent again (none, text or bytes in memory):
   * such a request never reached the node. A stream or a file is not sent twice; that error surfaces.
   */
  async send(method: string, path: string, opts: SendOptions = {}): Promise<IncomingMessage> {
    try {
      return await this.#attempt(method, path, opts)
    } catch (err) {
      if (!(err instanceof StaleConnectionError)) throw err
      if (!resendable(opts.body)) throw err.failure
      return this.#attempt(method, path, opts)
    }
  }

  #attempt(method: string, path: string, opts: SendOptions): Promise<IncomingMessage> {
    const { url, token } = this.connection
    return new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { ...opts.headers }
      if (token) headers.authorization = `Bearer ${token}`
      if (typeof opts.body === 'string') {
        headers['content-type'] = 'application/json'
        headers['content-length'] = String(Buffer.byteLength(opts.body))
      } else if (opts.body instanceof Uint8Array) {
        headers['content-length'] = String(opts.body.byteLength)
      } else if (opts.body instanceof FileBody) {
        headers['content-length'] = String(opts.body.size)
      }
      // Node's global agent keeps connections alive between requests (no connect and accept per
      // request) and unrefs idle ones, so they do not keep a process alive; it closes an idle one
      // before the node's keep-alive timeout, which the node announces in its answers.
      const req = request(`${url}${path}`, {
        method,
        headers,
        ...(opts.signal && { signal: opts.signal }),
      })
      let answered = false
      req.on('error', (err: NodeJS.ErrnoException) => {
        const failure = clientErrorOf(url, err)
        if (req.reusedSocket && err.code === 'ECONNRESET' && !answered) {
          reject(new StaleConnectionError(failure))
        } else {
          reject(failure)
        }
      })
      req.on('response', (res) => {
        answered = true
        if ((res.statusCode ?? 500) < 400) {
          resolve(res)
          return
        }
        // The node refused: read why, then stop sending (a big upload may still be flowing).
        readErrorBody(res).catch((err: unknown) => {
          if (opts.body instanceof FileBody) req.destroy()
          else if (opts.body && typeof opts.body !== 'string' && !(opts.body instanceof Uint8Array)) {
            opts.body.destroy()
          }
          reject(err)
        })
      })
      if (opts.body === undefined) req.end()
      else if (typeof opts.body === 'string' || opts.body instanceof Uint8Array) req.end(opts.body)
      else if (opts.body instanceof FileBody) {
        sendFile(req, opts.body).catch((err: unknown) => {
          if (!req.destroyed) req.destroy(err as Error)
        })
      } else {
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

/** A request that went out on a kept-alive connection the node had closed: no byte of it reached the node. */
class StaleConnectionError extends Error {
  constructor(readonly failure: Error) {
    super(failure.message)
  }
}

/** Whether a body can be sent a second time as it was the first. */
function resendable(body: SendOptions['body']): boolean {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array
}

/** What a failed request is to the caller: the node unreachable, or the request failed. */
function clientErrorOf(url: string, err: NodeJS.ErrnoException): Error {
  if (err instanceof ClientError) return err
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EADDRNOTAVAIL') {
    return new NodeUnreachableError(url, { cause: err })
  }
  return new ClientError('ERR_HTTP', `the request to ${url} failed: ${err.message}`, undefined, {
    cause: err,
  })
}

/** The whole answer as text; events, not an async iterator: a small answer then costs no more than its bytes. */
function readText(res: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    let size = 0
    res.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        res.destroy()
        reject(new ClientError('ERR_BAD_RESPONSE', `the node's answer exceeds ${limit} bytes`))
        return
      }
      parts.push(chunk)
    })
    res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')))
    res.on('error', reject)
    // A connection cut before the end: 'aborted' on the message, then 'close' without 'end'.
    res.on('close', () => {
      if (!res.complete) {
        reject(new ClientError('ERR_HTTP', 'the node closed the connection before its answer ended'))
      }
    })
  })
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
