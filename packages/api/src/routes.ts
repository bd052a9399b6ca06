import type { z } from 'zod'
import { ActivitySchema } from './activity-schemas.js'
import {
  CatalogueSyncSchema,
  RepairResultSchema,
  StatusSchema,
  StopResultSchema,
  TrafficSchema,
  VerifyResultSchema,
} from './node-schemas.js'
import {
  DeleteResultSchema,
  DownloadLinkSchema,
  ObjectInfoSchema,
  ObjectListSchema,
  PutResultSchema,
  RenameResultSchema,
  ShareResultSchema,
} from './object-schemas.js'
import { PeerInfoSchema, PeerListSchema } from './peer-schemas.js'
import { UiLinkSchema, UiSessionSchema } from './session-schemas.js'
import { SnapshotListSchema, SnapshotPutResultSchema, SnapshotSchema } from './snapshot-schemas.js'

/** What a route answers with on success: JSON of a schema, or another kind of body. */
export type RouteBody = z.ZodType | 'bytes' | 'text' | 'events' | 'page'

export interface ApiRoute {
  /** The handler's name, and the `route` label of the node's latency metric. */
  name: string
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE'
  /** `{param}` stands for one percent-encoded path segment. */
  path: string
  /** Status of a success. */
  status: number
  body: RouteBody
  /** false: served without the bearer token (it reveals nothing, or carries its own one-time code). */
  auth: boolean
}

const route = (
  name: string,
  method: ApiRoute['method'],
  path: string,
  status: number,
  body: RouteBody,
  auth = true,
): ApiRoute => ({ name, method, path, status, body, auth })

/** Every endpoint of a node's local HTTP API (docs/http-api.md lists the same, a test checks). */
export const API_ROUTES: readonly ApiRoute[] = [
  route('put', 'POST', '/v1/objects', 201, PutResultSchema),
  route('list', 'GET', '/v1/objects', 200, ObjectListSchema),
  route('stat', 'GET', '/v1/objects/{ref}/stat', 200, ObjectInfoSchema),
  route('share', 'POST', '/v1/objects/{ref}/share', 200, ShareResultSchema),
  route('rename', 'POST', '/v1/objects/{ref}/rename', 200, RenameResultSchema),
  route('download-link', 'POST', '/v1/objects/{ref}/download-link', 200, DownloadLinkSchema),
  route('get', 'GET', '/v1/objects/{ref}', 200, 'bytes'),
  route('get', 'HEAD', '/v1/objects/{ref}', 200, 'bytes'),
  route('delete', 'DELETE', '/v1/objects/{ref}', 200, DeleteResultSchema),
  route('download', 'GET', '/v1/downloads/{code}', 200, 'bytes', false),
  route('peers', 'GET', '/v1/peers', 200, PeerListSchema),
  route('connect', 'POST', '/v1/peers', 200, PeerInfoSchema),
  route('status', 'GET', '/v1/status', 200, StatusSchema),
  route('traffic', 'GET', '/v1/traffic', 200, TrafficSchema),
  route('activity', 'GET', '/v1/activity', 200, ActivitySchema),
  route('events', 'GET', '/v1/events', 200, 'events'),
  route('verify', 'POST', '/v1/verify', 200, VerifyResultSchema),
  route('catalogue-sync', 'POST', '/v1/catalogue/sync', 200, CatalogueSyncSchema),
  route('snapshots', 'GET', '/v1/snapshots', 200, SnapshotListSchema),
  route('snapshot-put', 'POST', '/v1/snapshots', 201, SnapshotPutResultSchema),
  route('snapshot', 'GET', '/v1/snapshots/{id}', 200, SnapshotSchema),
  route('repair', 'POST', '/v1/repair', 200, RepairResultSchema),
  route('stop', 'POST', '/v1/stop', 202, StopResultSchema),
  route('ui-link', 'POST', '/v1/ui/links', 200, UiLinkSchema),
  route('ui-session', 'POST', '/v1/ui/session', 200, UiSessionSchema, false),
  route('metrics', 'GET', '/metrics', 200, 'text'),
  route('healthz', 'GET', '/healthz', 200, 'text', false),
  route('dashboard', 'GET', '/', 200, 'page', false),
  route('dashboard-asset', 'GET', '/assets/{file}', 200, 'page', false),
]

/** A route's path as a regular expression whose groups are its `{params}`. */
export function routePattern(path: string): RegExp {
  const escaped = path
    .split(/\{[a-z]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('([^/]+)')
  return new RegExp(`^${escaped}$`)
}
