import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import {
  ActivitySchema,
  API_ROUTES,
  DownloadLinkSchema,
  PutResultSchema,
  StatusSchema,
  TrafficSchema,
  type Transfer,
  TransferSchema,
  UiLinkSchema,
  UiSessionSchema,
} from '@cas/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { auth, Harness, http, type Running, waitFor } from './helpers/harness.js'

const harness = new Harness()
let node: Running
let api: string

beforeAll(async () => {
  node = await harness.start(await harness.tempDir())
  api = node.info.api
})
afterAll(() => harness.cleanup())

const json = { 'content-type': 'application/json' }

async function put(name: string, body: Buffer) {
  const res = await http(`${api}/v1/objects?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: auth(node),
    body,
  })
  expect(res.status).toBe(201)
  return PutResultSchema.parse(res.json())
}

/** Reads `GET /v1/events` as it arrives: each event's type and parsed data. */
function openEvents(): Promise<{ events: { type: string; data: unknown }[]; close: () => void }> {
  return new Promise((resolve, reject) => {
    const events: { type: string; data: unknown }[] = []
    const req = request(`${api}/v1/events`, { headers: auth(node), agent: false }, (res) => {
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toContain('text/event-stream')
      let buffered = ''
      res.setEncoding('utf8')
      res.on('data', (text: string) => {
        buffered += text
        for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          const type = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (type && data) events.push({ type, data: JSON.parse(data) })
        }
      })
      res.on('error', () => undefined)
      resolve({ events, close: () => req.destroy() })
    })
    req.on('error', reject)
    req.end()
  })
}

describe('dashboard sign-in links', () => {
  it('trades a link code for the token once, and refuses it after', async () => {
    const res = await http(`${api}/v1/ui/links`, { method: 'POST', headers: auth(node) })
    expect(res.status).toBe(200)
    const link = UiLinkSchema.parse(res.json())
    expect(link.url.startsWith(`${api}/#code=`)).toBe(true)
    expect(link.expiresAt).toBeGreaterThan(Date.now())
    const code = link.url.split('#code=')[1] ?? ''
    const body = JSON.stringify({ code })
    const first = await http(`${api}/v1/ui/session`, { method: 'POST', headers: json, body })
    expect(first.status).toBe(200)
    expect(UiSessionSchema.parse(first.json()).token).toBe(node.token)
    const again = await http(`${api}/v1/ui/session`, { method: 'POST', headers: json, body })
    expect(again.status).toBe(401)
    expect(again.json<{ error: { code: string } }>().error.code).toBe('ERR_UNAUTHENTICATED')
  })

  it('refuses a made-up code and makes no link without the token', async () => {
    const body = JSON.stringify({ code: 'x'.repeat(32) })
    expect((await http(`${api}/v1/ui/session`, { method: 'POST', headers: json, body })).status).toBe(401)
    expect((await http(`${api}/v1/ui/links`, { method: 'POST' })).status).toBe(401)
  })
})

describe('download links', () => {
  it('serve the object once without the token, as an attachment under its name', async () => {
    const data = randomBytes(300_000)
    const { cid } = await put('photos/été.jpg', data)
    const res = await http(`${api}/v1/objects/${cid}/download-link`, { method: 'POST', headers: auth(node) })
    expect(res.status).toBe(200)
    const link = DownloadLinkSchema.parse(res.json())
    const got = await http(link.url)
    expect(got.status).toBe(200)
    expect(got.body.equals(data)).toBe(true)
    expect(got.headers['content-disposition']).toBe(
      `attachment; filename="_t_.jpg"; filename*=UTF-8''${encodeURIComponent('été.jpg')}`,
    )
    expect((await http(link.url)).status).toBe(404)
  })
})

describe('activity, events and traffic', () => {
  it('streams an upload as transfer events and lists it among recent activity', async () => {
    const stream = await openEvents()
    try {
      const { cid } = await put('live.bin', randomBytes(2 * 1024 * 1024))
      const done = await waitFor(async () => {
        const t = stream.events
          .filter((e) => e.type === 'transfer')
          .map((e) => TransferSchema.parse(e.data))
          .find((t: Transfer) => t.state === 'done' && t.cid === cid)
        return t
      }, 10_000)
      expect(done).toMatchObject({ kind: 'upload', name: 'live.bin', total: 2 * 1024 * 1024 })
      expect(done.bytes).toBeGreaterThanOrEqual(2 * 1024 * 1024)
      const activity = ActivitySchema.parse(
        (await http(`${api}/v1/activity`, { headers: auth(node) })).json(),
      )
      expect(activity.recent.some((e) => e.type === 'transfer' && e.cid === cid)).toBe(true)
      expect(activity.transfers.some((t) => t.cid === cid)).toBe(false)
    } finally {
      stream.close()
    }
  })

  it('counts the API bytes in its per-second history', async () => {
    await put('counted.bin', randomBytes(100_000))
    const traffic = await waitFor(async () => {
      const t = TrafficSchema.parse((await http(`${api}/v1/traffic`, { headers: auth(node) })).json())
      return t.samples.some((s) => s.apiIn >= 100_000) ? t : undefined
    }, 10_000)
    expect(traffic.intervalMs).toBe(1000)
  })
})

describe('answers checked against @cas/api', () => {
  it('every JSON route without parameters answers what its schema says', async () => {
    const routes = API_ROUTES.filter(
      (r) => r.method === 'GET' && !r.path.includes('{') && typeof r.body !== 'string',
    )
    expect(routes.map((r) => r.name)).toEqual(
      expect.arrayContaining(['list', 'peers', 'status', 'traffic', 'activity', 'snapshots']),
    )
    for (const r of routes) {
      const res = await http(`${api}${r.path}`, { headers: auth(node) })
      expect(res.status, r.path).toBe(r.status)
      ;(r.body as z.ZodType).parse(res.json())
    }
    const status = StatusSchema.parse((await http(`${api}/v1/status`, { headers: auth(node) })).json())
    expect(status.disk?.total).toBeGreaterThan(0)
  })
})
