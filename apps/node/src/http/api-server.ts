import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Logger } from 'pino'
import type { NodeBackend } from '../backend.js'
import type { HostPort } from '../config-values.js'
import { HttpError } from '../errors.js'
import type { NodeMetrics } from '../metrics.js'
import { redactCapabilities } from './redact.js'
import { checkHost, checkToken } from './request-guards.js'
import { sendError, sendJson, statusForCode } from './respond.js'
import { checkedBody, type DashboardState, ROUTES } from './routes.js'

/**
 * Most connections the API holds at once; more are closed as they arrive. The API serves one user's
 * CLI and dashboard on loopback: 64 leaves room for parallel transfers while a local process that
 * opens sockets without end cannot exhaust the node's descriptors.
 */
export const DEFAULT_API_MAX_CONNECTIONS = 64

export interface ApiServerOptions {
  backend: NodeBackend
  metrics: NodeMetrics
  token: string
  logger: Logger
  /** Fields merged into GET /v1/status (api address, version, uptime, disk). */
  extraStatus: () => Promise<object>
  /** The dashboard's feed, traffic, links and files. */
  ui: DashboardState
  /** Begins a graceful stop of the node (POST /v1/stop answers first). */
  stop: () => void
  /** Default DEFAULT_API_MAX_CONNECTIONS. */
  maxConnections?: number
}

/** The node's local HTTP API on node:http; bodies stream in both directions. */
export class ApiServer {
  readonly #opts: ApiServerOptions
  readonly #server: Server
  #port = 0
  readonly #counted = new WeakMap<Socket, { read: number; written: number }>()
  #host = '127.0.0.1'

  constructor(opts: ApiServerOptions) {
    this.#opts = opts
    this.#server = createServer((req, res) => {
      void this.#handle(req, res)
    })
    // Uploads of many GiB take minutes: no overall request deadline, only an idle one.
    this.#server.requestTimeout = 0
    this.#server.headersTimeout = 30_000
    this.#server.keepAliveTimeout = 5_000
    this.#server.maxConnections = opts.maxConnections ?? DEFAULT_API_MAX_CONNECTIONS
  }

  get port(): number {
    return this.#port
  }

  listen({ host, port }: HostPort): Promise<HostPort> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err)
      this.#server.once('error', onError)
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError)
        this.#port = (this.#server.address() as AddressInfo).port
        this.#host = host
        resolve({ host, port: this.#port })
      })
    })
  }

  /** Stops accepting, lets running requests finish for up to `graceMs`, then cuts the rest. */
  async close(graceMs: number): Promise<void> {
    if (!this.#server.listening) return
    // Event streams last as long as their page: they end now, as the node stops.
    this.#opts.ui.feed.close()
    this.#opts.ui.traffic.close()
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    this.#server.closeIdleConnections()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#server.closeAllConnections()
        resolve()
      }, graceMs)
    })
    await Promise.race([closed, deadline])
    clearTimeout(timer)
    await closed
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint()
    const socket = req.socket
    const url = new URL(req.url ?? '/', 'http://localhost')
    const route =
      ROUTES.find((r) => r.method === req.method && r.pattern.test(url.pathname)) ??
      // HEAD of a route that has no HEAD of its own: the GET, whose body node:http leaves out.
      (req.method === 'HEAD'
        ? ROUTES.find((r) => r.method === 'GET' && r.pattern.test(url.pathname))
        : undefined)
    const aborter = new AbortController()
    // Paths can carry a capability (GET /v1/objects/cas-cap2:…): the log gets them cut.
    const logPath = redactCapabilities(url.pathname)
    this.#opts.logger.debug({ method: req.method, path: logPath }, 'request started')
    res.on('close', () => {
      if (!res.writableFinished) aborter.abort(new Error('the client went away'))
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const { metrics, logger } = this.#opts
      metrics.requestDuration.observe(
        { method: req.method ?? '', route: route?.name ?? 'none', status: String(res.statusCode) },
        seconds,
      )
      // Requests on one connection come one after another: count what the socket moved since the last.
      const last = this.#counted.get(socket) ?? { read: 0, written: 0 }
      const read = Math.max(0, socket.bytesRead - last.read)
      const written = Math.max(0, socket.bytesWritten - last.written)
      metrics.apiBytesIn.inc(read)
      metrics.apiBytesOut.inc(written)
      this.#opts.ui.traffic.add('apiIn', read)
      this.#opts.ui.traffic.add('apiOut', written)
      this.#counted.set(socket, { read: socket.bytesRead, written: socket.bytesWritten })
      logger.debug(
        { method: req.method, path: logPath, status: res.statusCode, ms: seconds * 1000 },
        'request',
      )
    })
    try {
      checkHost(req, this.#host, this.#port)
      if (!route) {
        checkToken(req, this.#opts.token)
        const known = ROUTES.some((r) => r.pattern.test(url.pathname))
        throw known
          ? new HttpError(405, 'ERR_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`)
          : new HttpError(404, 'ERR_NO_ROUTE', `no endpoint ${url.pathname}; see docs/http-api.md`)
      }
      if (route.auth) checkToken(req, this.#opts.token)
      const params = (route.pattern.exec(url.pathname) ?? []).slice(1).map(decodeParam)
      const answer = await route.handler({
        req,
        res,
        params,
        query: url.searchParams,
        backend: this.#opts.backend,
        metrics: this.#opts.metrics,
        signal: aborter.signal,
        extraStatus: this.#opts.extraStatus,
        stop: this.#opts.stop,
        ui: this.#opts.ui,
        apiToken: this.#opts.token,
      })
      if (typeof route.body !== 'string') sendJson(res, route.status, checkedBody(route, answer))
    } catch (err) {
      this.#fail(req, res, err, aborter.signal.aborted)
    }
  }

  #fail(req: IncomingMessage, res: ServerResponse, err: unknown, clientGone: boolean): void {
    const code = (err as { code?: unknown }).code
    const status =
      err instanceof HttpError ? err.status : statusForCode(typeof code === 'string' ? code : undefined)
    const message = err instanceof Error ? err.message : String(err)
    const url = redactCapabilities(req.url ?? '')
    const logged = redactCapabilities(message)
    if (clientGone) {
      this.#opts.logger.debug({ err: logged }, 'client went away')
    } else if (status >= 500) {
      const stack = err instanceof Error && err.stack ? redactCapabilities(err.stack) : undefined
      this.#opts.logger.error({ err: logged, code, stack, method: req.method, url }, 'request failed')
    } else {
      this.#opts.logger.info({ code, method: req.method, url, status }, logged)
    }
    // A body we did not read may still be arriving: close rather than drain it.
    if (!req.complete) res.setHeader('connection', 'close')
    if (status === 401 && !res.headersSent) res.setHeader('www-authenticate', 'Bearer')
    sendError(res, status, typeof code === 'string' ? code : 'ERR_INTERNAL', message)
  }
}

/** A path segment, percent-decoded; a malformed escape (`%zz`) is the client's error, not ours. */
function decodeParam(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new HttpError(
      400,
      'ERR_BAD_REQUEST',
      `malformed percent-encoding in ${JSON.stringify(segment.slice(0, 80))}`,
    )
  }
}
