import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CAPABILITY_PREFIX, MAX_SNAPSHOT_ENTRIES, snapshotEntrySchema } from '@cas/server'
import { z } from 'zod'
import type { NodeBackend } from '../backend.js'
import { HttpError } from '../errors.js'
import type { NodeMetrics } from '../metrics.js'
import { parseRange } from './byte-range.js'
import { sendJson } from './respond.js'

export interface RouteContext {
  req: IncomingMessage
  res: ServerResponse
  params: string[]
  query: URLSearchParams
  backend: NodeBackend
  metrics: NodeMetrics
  /** Aborted when the client goes away before the response is complete. */
  signal: AbortSignal
  extraStatus: () => object
  stop: () => void
}

export interface Route {
  method: string
  pattern: RegExp
  /** Low-cardinality label for metrics. */
  name: string
  handler: (ctx: RouteContext) => Promise<void>
}

const CID = /^[0-9a-f]{64}$/
const MAX_JSON_BODY = 16 * 1024
/** A snapshot's listing: about 400,000 entries of 160 bytes. */
const MAX_SNAPSHOT_BODY = 64 * 1024 * 1024

const PutQuery = z.object({
  name: z.string().min(1).max(1024).optional(),
  replication: z
    .union([
      z.literal('all'),
      z
        .string()
        .regex(/^\d{1,2}$/)
        .transform(Number),
    ])
    .pipe(z.union([z.literal('all'), z.number().int().min(1).max(64)]))
    .optional(),
})
const ConnectBody = z.object({ addr: z.string().regex(/^.{1,255}:\d{1,5}$/) })
const RenameBody = z.object({ name: z.string().min(1).max(4096) })
const SnapshotBody = z.object({
  root: z.string().min(1).max(4096),
  entries: z.array(snapshotEntrySchema).max(MAX_SNAPSHOT_ENTRIES),
})

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

async function putObject(ctx: RouteContext): Promise<void> {
  const q = parse(PutQuery, Object.fromEntries(ctx.query), 'query')
  const result = await ctx.backend.put(ctx.req, {
    ...(q.name !== undefined && { name: q.name }),
    ...(q.replication !== undefined && { replication: q.replication }),
    signal: ctx.signal,
  })
  sendJson(ctx.res, 201, result)
}

/**
 * The name a download is saved under: the name asked for, else the first name the object was
 * stored under here (none for an object known only by cid or read through a capability).
 */
async function storedName(backend: NodeBackend, asked: string, cid: string): Promise<string | undefined> {
  if (asked !== cid && !asked.startsWith(CAPABILITY_PREFIX)) return asked
  if (!CID.test(asked)) return undefined
  try {
    return (await backend.stat(cid)).names[0]
  } catch {
    return undefined
  }
}

async function getObject(ctx: RouteContext): Promise<void> {
  const asked = ctx.params[0] ?? ''
  const ref = await resolveRef(ctx.backend, asked)
  let { cid, size, stream } = await ctx.backend.get(ref, { signal: ctx.signal })
  const range = parseRange(ctx.req.headers.range, size)
  const headers: Record<string, string | number> = {
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag: `"${cid}"`,
    'x-cas-cid': cid,
    'x-cas-size': size,
  }
  const name = await storedName(ctx.backend, asked, cid)
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
  await pipeline(Readable.from(rest as AsyncGenerator<Buffer>), ctx.res)
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

export const ROUTES: readonly Route[] = [
  { method: 'POST', pattern: /^\/v1\/objects$/, name: 'put', handler: putObject },
  {
    method: 'GET',
    pattern: /^\/v1\/objects$/,
    name: 'list',
    handler: async (ctx) => sendJson(ctx.res, 200, await ctx.backend.list()),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/objects\/([^/]+)\/stat$/,
    name: 'stat',
    handler: async (ctx) => sendJson(ctx.res, 200, await ctx.backend.stat(await refParam(ctx))),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/objects\/([^/]+)\/share$/,
    name: 'share',
    handler: async (ctx) => {
      const cid = await refParam(ctx)
      await ctx.backend.stat(cid) // throws ERR_NOT_FOUND for an object this node does not know
      sendJson(ctx.res, 200, { cid, capability: ctx.backend.share(cid) })
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/objects\/([^/]+)\/rename$/,
    name: 'rename',
    handler: async (ctx) => {
      const { name } = parse(RenameBody, await readJson(ctx.req), 'body')
      sendJson(ctx.res, 200, await ctx.backend.rename(ctx.params[0] ?? '', name))
    },
  },
  { method: 'GET', pattern: /^\/v1\/objects\/([^/]+)$/, name: 'get', handler: getObject },
  { method: 'HEAD', pattern: /^\/v1\/objects\/([^/]+)$/, name: 'get', handler: getObject },
  {
    method: 'DELETE',
    pattern: /^\/v1\/objects\/([^/]+)$/,
    name: 'delete',
    handler: async (ctx) => {
      const cid = await refParam(ctx)
      const localOnly = ['1', 'true'].includes(ctx.query.get('local') ?? '')
      const result = localOnly
        ? { local: await ctx.backend.evictLocal(cid), peers: 0 }
        : await ctx.backend.delete(cid)
      sendJson(ctx.res, 200, { cid, ...result })
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/peers$/,
    name: 'peers',
    handler: async (ctx) => sendJson(ctx.res, 200, ctx.backend.peers()),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/peers$/,
    name: 'connect',
    handler: async (ctx) => {
      const { addr } = parse(ConnectBody, await readJson(ctx.req), 'body')
      sendJson(ctx.res, 200, await ctx.backend.connect(addr))
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/status$/,
    name: 'status',
    handler: async (ctx) => sendJson(ctx.res, 200, { ...(await ctx.backend.status()), ...ctx.extraStatus() }),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/verify$/,
    name: 'verify',
    handler: async (ctx) => sendJson(ctx.res, 200, await ctx.backend.verify()),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/catalogue\/sync$/,
    name: 'catalogue-sync',
    handler: async (ctx) => sendJson(ctx.res, 200, await ctx.backend.syncCatalogue()),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/snapshots$/,
    name: 'snapshots',
    handler: async (ctx) => sendJson(ctx.res, 200, ctx.backend.snapshots()),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/snapshots$/,
    name: 'snapshot-put',
    handler: async (ctx) => {
      const { root, entries } = parse(SnapshotBody, await readJson(ctx.req, MAX_SNAPSHOT_BODY), 'body')
      sendJson(ctx.res, 201, await ctx.backend.putSnapshot(root, entries))
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/snapshots\/([^/]+)$/,
    name: 'snapshot',
    handler: async (ctx) => sendJson(ctx.res, 200, await ctx.backend.snapshot(ctx.params[0] ?? '')),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/repair$/,
    name: 'repair',
    handler: async (ctx) => sendJson(ctx.res, 200, await ctx.backend.repair()),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/stop$/,
    name: 'stop',
    handler: async (ctx) => {
      // Answered first: the stop then waits for this and every other request in flight, as on SIGTERM.
      sendJson(ctx.res, 202, { stopping: true, pid: process.pid })
      ctx.res.once('finish', () => ctx.stop())
    },
  },
  {
    method: 'GET',
    pattern: /^\/metrics$/,
    name: 'metrics',
    handler: async (ctx) => {
      const text = await ctx.metrics.registry.metrics()
      ctx.res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType })
      ctx.res.end(text)
    },
  },
]
