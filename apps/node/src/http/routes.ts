import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import {
  API_ROUTES,
  type ApiRoute,
  ConnectBodySchema,
  EVENT_TYPES,
  PutQuerySchema,
  PutResultSchema,
  RenameBodySchema,
  routePattern,
  SnapshotBodySchema,
  UiSessionBodySchema,
} from '@cas/api'
import { CAPABILITY_PREFIX } from '@cas/server'
import type { z } from 'zod'
import type { ActivityFeed, FeedMessage } from '../activity-feed.js'
import type { NodeBackend } from '../backend.js'
import { HttpError } from '../errors.js'
import type { NodeMetrics } from '../metrics.js'
import type { OneTimeCodes } from '../one-time-codes.js'
import type { TrafficHistory } from '../traffic-history.js'
import { parseRange } from './byte-range.js'
import { sendStaticFile } from './static-files.js'
import { writeBody } from './write-body.js'

export interface RouteContext {
  req: IncomingMessage
  res: ServerResponse
  params: string[]
  query: URLSearchParams
  backend: NodeBackend
  metrics: NodeMetrics
  /** Aborted when the client goes away before the response is complete. */
  signal: AbortSignal
  extraStatus: () => Promise<object>
  stop: () => void
  ui: DashboardState
  apiToken: string
}

/** What the dashboard's endpoints keep: its feed, traffic, one-time codes and built files. */
export interface DashboardState {
  feed: ActivityFeed
  traffic: TrafficHistory
  /** Sign-in codes of `cas ui` links. */
  signIns: OneTimeCodes<true>
  /** Download links: the cid and the name to save under. */
  downloads: OneTimeCodes<{ cid: string; name: string | undefined }>
  /** The built dashboard (index.html, assets/), if this node has it. */
  dir: string | undefined
  /** The API's base URL, for the links. */
  apiUrl: () => string
}

/**
 * Serves one route: a JSON answer is returned (checked against the route's schema on its way
 * out); any other kind of body is written to `ctx.res` by the handler, which returns nothing.
 */
export type Handler = (ctx: RouteContext) => Promise<unknown>

export interface Route extends ApiRoute {
  pattern: RegExp
  handler: Handler
}

const CID = /^[0-9a-f]{64}$/
const MAX_JSON_BODY = 16 * 1024
/** A snapshot's listing: about 400,000 entries of 160 bytes. */
const MAX_SNAPSHOT_BODY = 64 * 1024 * 1024

/** The object a path names: a cid, a name stored here, or the start of a known cid. */
function refParam(ctx: RouteContext): Promise<string> {
  return ctx.backend.resolveRef(ctx.params[0] ?? '')
}

async function readJson(req: IncomingMessage, max = MAX_JSON_BODY): Promise<unknown> {
  let size = 0
  const parts: Buffer[] = []
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > max)
      throw new HttpError(413, 'ERR_BODY_TOO_LARGE', `this JSON body is limited to ${max} bytes`)
    parts.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'))
  } catch {
    throw new HttpError(400, 'ERR_BAD_REQUEST', 'the body is not valid JSON')
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new HttpError(
      400,
      'ERR_BAD_REQUEST',
      `invalid ${what}: ${issue?.path.join('.') || ''} ${issue?.message ?? ''}`.trim(),
    )
  }
  return r.data
}

/** A ref is a capability (`cas-cap2:…`), or else a cid, a name or a cid prefix this node knows. */
async function resolveRef(backend: NodeBackend, ref: string): Promise<string> {
  return ref.startsWith(CAPABILITY_PREFIX) ? ref : backend.resolveRef(ref)
}

async function putObject(ctx: RouteContext): Promise<unknown> {
  const q = parse(PutQuerySchema, Object.fromEntries(ctx.query), 'query')
  const declared = Number(ctx.req.headers['content-length'])
  const socket = ctx.req.socket
  const before = socket.bytesRead
  // Progress is read off the socket: nothing is added to the data path of an upload.
  const transfer = ctx.ui.feed.start(
    {
      kind: 'upload',
      ...(q.name !== undefined && { name: q.name }),
      ...(Number.isSafeInteger(declared) && { total: declared }),
    },
    () => Math.max(0, socket.bytesRead - before),
  )
  try {
    const result = PutResultSchema.parse(
      await ctx.backend.put(ctx.req, {
        ...(q.name !== undefined && { name: q.name }),
        ...(q.replication !== undefined && { replication: q.replication }),
        signal: ctx.signal,
      }),
    )
    transfer.done(result.cid, result.size)
    for (const r of result.refused) {
      ctx.ui.feed.note({
        type: 'refusal',
        message: `${r.nodeId.slice(0, 8)} refused a replica of ${q.name ?? result.cid.slice(0, 12)}: ${r.message}`,
        cid: result.cid,
        nodeId: r.nodeId,
        code: r.code,
      })
    }
    return result
  } catch (err) {
    transfer.failed(errorCode(err))
    throw err
  }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : 'ERR_INTERNAL'
}

/**
 * The name a download is saved under: the name asked for, else the first name the object was
 * stored under here (none for an object known only by cid or read through a capability).
 */
async function storedName(backend: NodeBackend, asked: string): Promise<string | undefined> {
  if (asked.startsWith(CAPABILITY_PREFIX)) return undefined
  if (!CID.test(asked)) return asked
  try {
    return (await backend.stat(asked)).names[0]
  } catch {
    return undefined
  }
}

async function getObject(ctx: RouteContext): Promise<void> {
  const asked = ctx.params[0] ?? ''
  await serveObject(ctx, await resolveRef(ctx.backend, asked), await storedName(ctx.backend, asked), {})
}

/** `GET /v1/downloads/{code}`: a download link's object, saved by the browser under its name. */
async function download(ctx: RouteContext): Promise<void> {
  const link = ctx.ui.downloads.take(ctx.params[0] ?? '')
  if (!link) throw new HttpError(404, 'ERR_NOT_FOUND', 'this download link is unknown, used or expired')
  const fallback = link.name?.split('/').pop() || link.cid
  await serveObject(ctx, link.cid, link.name, {
    'content-disposition': `attachment; filename="${fallback.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(fallback)}`,
  })
}

async function serveObject(
  ctx: RouteContext,
  ref: string,
  name: string | undefined,
  extra: Record<string, string>,
): Promise<void> {
  let { cid, size, stream } = await ctx.backend.get(ref, { signal: ctx.signal })
  const range = parseRange(ctx.req.headers.range, size)
  const headers: Record<string, string | number> = {
    ...extra,
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag: `"${cid}"`,
    'x-cas-cid': cid,
    'x-cas-size': size,
  }
  // Percent-encoded: a header carries only Latin-1, a name any Unicode.
  if (name !== undefined) headers['x-cas-name'] = encodeURIComponent(name)
  if (range === 'unsatisfiable') {
    discard(stream)
    ctx.res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': 0 })
    ctx.res.end()
    return
  }
  if (range) {
    // The size is known now (the manifest only was read): open just the chunks the range touches.
    discard(stream)
    stream = (await ctx.backend.get(ref, { signal: ctx.signal, start: range.start, end: range.end })).stream
  }
  const rest = ctx.req.method === 'HEAD' ? undefined : await firstChunk(stream)
  if (range) {
    ctx.res.writeHead(206, {
      ...headers,
      'content-range': `bytes ${range.start}-${range.end}/${size}`,
      'content-length': range.end - range.start + 1,
    })
  } else {
    ctx.res.writeHead(200, { ...headers, 'content-length': size })
  }
  if (ctx.req.method === 'HEAD') {
    discard(stream)
    ctx.res.end()
    return
  }
  const socket = ctx.res.socket
  const before = socket?.bytesWritten ?? 0
  const transfer = ctx.ui.feed.start(
    {
      kind: 'download',
      cid,
      ...(name !== undefined && { name }),
      total: range ? range.end - range.start + 1 : size,
    },
    () => Math.max(0, (socket?.bytesWritten ?? 0) - before),
  )
  try {
    await writeBody(rest as AsyncGenerator<Buffer>, ctx.res)
    transfer.done(cid, range ? range.end - range.start + 1 : size)
  } catch (err) {
    transfer.failed(errorCode(err))
    throw err
  }
}

/**
 * The first chunk of a get before the status line: a get that cannot serve its first verified byte
 * (every copy damaged, no holder reachable) answers with its error status, not a 200 cut short.
 */
async function firstChunk(stream: Readable): Promise<AsyncGenerator<Buffer>> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const first = await it.next()
  return (async function* () {
    try {
      if (first.done) return
      yield first.value
      for (;;) {
        const next = await it.next()
        if (next.done) return
        yield next.value
      }
    } finally {
      await it.return?.()
    }
  })()
}

/** Closes a stream we will not read; a late error from it has no one left to tell. */
function discard(stream: Readable): void {
  stream.on('error', () => undefined)
  stream.destroy()
}

/** `GET /v1/events`: the activity feed as Server-Sent Events until the client goes away. */
async function events(ctx: RouteContext): Promise<void> {
  const { res } = ctx
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  })
  res.write('retry: 1000\n\n')
  await new Promise<void>((resolve) => {
    const send = (m: FeedMessage) => {
      // A client that does not read is cut off (it reconnects and reloads the activity) rather
      // than let events pile up in the node's memory.
      if (res.writableLength > MAX_EVENT_BACKLOG) {
        res.destroy()
        return
      }
      res.write(`event: ${m.type}\ndata: ${JSON.stringify(EVENT_TYPES[m.type].parse(m.data))}\n\n`)
    }
    const unsubscribe = ctx.ui.feed.subscribe(send, () => res.end())
    const heartbeat = setInterval(() => res.write(': ping\n\n'), EVENT_HEARTBEAT)
    res.once('close', () => {
      clearInterval(heartbeat)
      unsubscribe()
      resolve()
    })
  })
}

/** Bytes of events a client may leave unread before it is cut off. */
const MAX_EVENT_BACKLOG = 1024 * 1024
/** A comment line this often keeps proxies and the browser from closing an idle stream. */
const EVENT_HEARTBEAT = 15_000

/** What every route of API_ROUTES runs, by route name. */
const HANDLERS: Record<string, Handler> = {
  put: putObject,
  list: (ctx) => ctx.backend.list(),
  stat: async (ctx) => ctx.backend.stat(await refParam(ctx)),
  share: async (ctx) => {
    const cid = await refParam(ctx)
    await ctx.backend.stat(cid) // throws ERR_NOT_FOUND for an object this node does not know
    return { cid, capability: ctx.backend.share(cid) }
  },
  rename: async (ctx) => {
    const { name } = parse(RenameBodySchema, await readJson(ctx.req), 'body')
    return ctx.backend.rename(ctx.params[0] ?? '', name)
  },
  'download-link': async (ctx) => {
    const cid = await refParam(ctx)
    const { names } = await ctx.backend.stat(cid)
    const { code, expiresAt } = ctx.ui.downloads.issue({ cid, name: names[0] })
    return { url: `${ctx.ui.apiUrl()}/v1/downloads/${code}`, expiresAt }
  },
  get: getObject,
  download,
  delete: async (ctx) => {
    const cid = await refParam(ctx)
    const localOnly = ['1', 'true'].includes(ctx.query.get('local') ?? '')
    const result = localOnly
      ? { local: await ctx.backend.evictLocal(cid), peers: 0 }
      : await ctx.backend.delete(cid)
    return { cid, ...result }
  },
  peers: async (ctx) => ctx.backend.peers(),
  connect: async (ctx) => {
    const { addr } = parse(ConnectBodySchema, await readJson(ctx.req), 'body')
    return ctx.backend.connect(addr)
  },
  status: async (ctx) => ({ ...(await ctx.backend.status()), ...(await ctx.extraStatus()) }),
  traffic: async (ctx) => ctx.ui.traffic.history(),
  activity: async (ctx) => ctx.ui.feed.snapshot(),
  events,
  verify: (ctx) => ctx.backend.verify(),
  'catalogue-sync': (ctx) => ctx.backend.syncCatalogue(),
  snapshots: async (ctx) => ctx.backend.snapshots(),
  'snapshot-put': async (ctx) => {
    const { root, entries } = parse(SnapshotBodySchema, await readJson(ctx.req, MAX_SNAPSHOT_BODY), 'body')
    return ctx.backend.putSnapshot(root, entries)
  },
  snapshot: (ctx) => ctx.backend.snapshot(ctx.params[0] ?? ''),
  repair: (ctx) => ctx.backend.repair(),
  stop: async (ctx) => {
    // Answered first: the stop then waits for this and every other request in flight, as on SIGTERM.
    ctx.res.once('finish', () => ctx.stop())
    return { stopping: true, pid: process.pid }
  },
  'ui-link': async (ctx) => {
    const { code, expiresAt } = ctx.ui.signIns.issue(true)
    // In the fragment: a browser sends it to no server and puts it in no Referer or log.
    return { url: `${ctx.ui.apiUrl()}/#code=${code}`, expiresAt }
  },
  'ui-session': async (ctx) => {
    const { code } = parse(UiSessionBodySchema, await readJson(ctx.req), 'body')
    if (!ctx.ui.signIns.take(code)) {
      throw new HttpError(
        401,
        'ERR_UNAUTHENTICATED',
        'this sign-in link is unknown, used or expired; run cas ui again',
      )
    }
    return { token: ctx.apiToken }
  },
  metrics: async (ctx) => {
    const text = await ctx.metrics.registry.metrics()
    ctx.res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType })
    ctx.res.end(text)
  },
  healthz: async (ctx) => {
    ctx.res.writeHead(200, { 'content-type': 'application/json' })
    ctx.res.end('{"ok":true}\n')
  },
  dashboard: (ctx) => sendStaticFile(ctx.res, ctx.ui.dir, 'index.html', ctx.req.method === 'HEAD'),
  'dashboard-asset': (ctx) =>
    sendStaticFile(ctx.res, ctx.ui.dir, ctx.params[0] ?? '', ctx.req.method === 'HEAD'),
}

/** The API's routes (from @cas/api) with their handlers. */
export const ROUTES: readonly Route[] = API_ROUTES.map((r: ApiRoute) => {
  const handler = HANDLERS[r.name]
  if (!handler) throw new Error(`no handler for the route ${r.name}`)
  return { ...r, pattern: routePattern(r.path), handler }
})

/**
 * A JSON answer checked against its route's schema on its way out: a node that would break its
 * own contract answers 500 (and logs why) rather than send what clients would reject.
 */
export function checkedBody(route: ApiRoute, value: unknown): unknown {
  const schema = route.body as z.ZodType
  const r = schema.safeParse(value)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  throw new Error(
    `the answer of ${route.name} does not match its schema: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`,
  )
}
