import { describe, expect, it } from 'vitest'
import {
  API_ROUTES,
  EXIT_NOT_FOUND,
  EXIT_USAGE,
  exitCodeForCode,
  routePattern,
  statusForCode,
} from '../src/index.js'

describe('routePattern', () => {
  it('matches one percent-encoded segment per {param} and nothing else', () => {
    const p = routePattern('/v1/objects/{ref}/stat')
    expect(p.exec('/v1/objects/photo%2Fa.jpg/stat')?.[1]).toBe('photo%2Fa.jpg')
    expect(p.test('/v1/objects/a/b/stat')).toBe(false)
    expect(p.test('/v1/objects//stat')).toBe(false)
    expect(routePattern('/metrics').test('/metricsX')).toBe(false)
  })
})

describe('API_ROUTES', () => {
  it('has one entry per method and path, and a token on everything but a few', () => {
    const keys = API_ROUTES.map((r) => `${r.method} ${r.path}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(API_ROUTES.filter((r) => !r.auth).map((r) => r.name)).toEqual([
      'download',
      'ui-session',
      'healthz',
      'dashboard',
      'dashboard-asset',
    ])
  })
})

describe('error codes', () => {
  it('give one HTTP status and one exit code per code, 500 and 1 for others', () => {
    expect(statusForCode('ERR_NOT_FOUND')).toBe(404)
    expect(exitCodeForCode('ERR_NOT_FOUND')).toBe(EXIT_NOT_FOUND)
    expect(statusForCode('ERR_AMBIGUOUS')).toBe(409)
    expect(exitCodeForCode('ERR_AMBIGUOUS')).toBe(EXIT_USAGE)
    expect(statusForCode('ERR_QUOTA')).toBe(507)
    expect(statusForCode('ERR_SOMETHING_NEW')).toBe(500)
    expect(statusForCode(undefined)).toBe(500)
    expect(exitCodeForCode('ERR_SOMETHING_NEW')).toBe(1)
  })
})
