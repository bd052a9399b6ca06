export {
  type Activity,
  type ActivityEvent,
  ActivityEventSchema,
  ActivitySchema,
  EVENT_TYPES,
  type EventType,
  type Transfer,
  TransferSchema,
} from './activity-schemas.js'
export * from './error-codes.js'
export { Count, Hex64, Millis } from './hex.js'
export * from './node-schemas.js'
export * from './object-schemas.js'
export * from './peer-schemas.js'
export * from './request-schemas.js'
export { API_ROUTES, type ApiRoute, type RouteBody, routePattern } from './routes.js'
export * from './session-schemas.js'
export * from './snapshot-schemas.js'
