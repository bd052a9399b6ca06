import {
  type Activity,
  ActivitySchema,
  type DeleteResult,
  DeleteResultSchema,
  type DownloadLink,
  DownloadLinkSchema,
  type ObjectInfo,
  ObjectListSchema,
  type PeerInfo,
  PeerInfoSchema,
  PeerListSchema,
  type ShareResult,
  ShareResultSchema,
  type SnapshotInfo,
  SnapshotListSchema,
  type Status,
  StatusSchema,
  type Traffic,
  TrafficSchema,
  UiSessionSchema,
} from '@cas/api'
import type { z } from 'zod'
import { ApiError, errorFromBody } from './api-error.js'

interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE'
  json?: unknown
  signal?: AbortSignal
  /** false: sent without the token (routes with `auth: false`). */
  auth?: boolean
}

const objectPath = (cid: string): string => `/v1/objects/${encodeURIComponent(cid)}`

/**
 * The node's API, same-origin: each call carries the bearer token and checks the answer against
 * the contract's schema. Failures throw an ApiError; a refused token also calls `onUnauthenticated`
 * (the dashboard signs out).
 */
export class ApiClient {
  constructor(
    readonly token: string,
    private readonly onUnauthenticated: () => void = () => {},
  ) {}

  /** The raw answer, or an ApiError for a failure status or no answer at all. */
  async fetch(path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (options.auth !== false) headers.Authorization = `Bearer ${this.token}`
    const init: RequestInit = { method: options.method ?? 'GET', headers, cache: 'no-store' }
    if (options.json !== undefined) {
      headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(options.json)
    }
    if (options.signal) init.signal = options.signal
    let response: Response
    try {
      response = await fetch(path, init)
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error
      throw new ApiError('ERR_NETWORK', 'The node could not be reached', 0)
    }
    if (!response.ok) {
      const error = errorFromBody(response.status, await response.text().catch(() => ''))
      if (error.unauthenticated && options.auth !== false) this.onUnauthenticated()
      throw error
    }
    return response
  }

  async json<S extends z.ZodType>(
    schema: S,
    path: string,
    options: RequestOptions = {},
  ): Promise<z.output<S>> {
    const response = await this.fetch(path, options)
    let body: unknown
    try {
      body = await response.json()
    } catch {
      throw new ApiError('ERR_BAD_RESPONSE', `${path} did not answer JSON`, response.status)
    }
    const parsed = schema.safeParse(body)
    if (!parsed.success) {
      throw new ApiError('ERR_BAD_RESPONSE', `${path} answered an unexpected shape`, response.status)
    }
    return parsed.data
  }

  status(signal?: AbortSignal): Promise<Status> {
    return this.json(StatusSchema, '/v1/status', signal ? { signal } : {})
  }

  traffic(): Promise<Traffic> {
    return this.json(TrafficSchema, '/v1/traffic')
  }

  objects(): Promise<ObjectInfo[]> {
    return this.json(ObjectListSchema, '/v1/objects')
  }

  snapshots(): Promise<SnapshotInfo[]> {
    return this.json(SnapshotListSchema, '/v1/snapshots')
  }

  downloadLink(cid: string): Promise<DownloadLink> {
    return this.json(DownloadLinkSchema, `${objectPath(cid)}/download-link`, { method: 'POST' })
  }

  share(cid: string): Promise<ShareResult> {
    return this.json(ShareResultSchema, `${objectPath(cid)}/share`, { method: 'POST' })
  }

  remove(cid: string): Promise<DeleteResult> {
    return this.json(DeleteResultSchema, objectPath(cid), { method: 'DELETE' })
  }

  peers(): Promise<PeerInfo[]> {
    return this.json(PeerListSchema, '/v1/peers')
  }

  connectPeer(addr: string): Promise<PeerInfo> {
    return this.json(PeerInfoSchema, '/v1/peers', { method: 'POST', json: { addr } })
  }

  activity(): Promise<Activity> {
    return this.json(ActivitySchema, '/v1/activity')
  }
}

/** Trades the one-time code of a sign-in link for the API token (no token needed for this). */
export async function redeemSignInCode(code: string): Promise<string> {
  const client = new ApiClient('')
  const session = await client.json(UiSessionSchema, '/v1/ui/session', {
    method: 'POST',
    json: { code },
    auth: false,
  })
  return session.token
}
