import { describe, expect, it } from 'vitest'
import { ApiError, describeError, errorFromBody, toApiError } from '../app/lib/api-error.js'
import { BACKOFF_MAX_MS, backoffDelay } from '../app/lib/backoff.js'

describe('backoffDelay', () => {
  it('waits 1 s, doubling up to 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 100].map(backoffDelay)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ])
    expect(backoffDelay(1e9)).toBe(BACKOFF_MAX_MS)
  })
})

describe('API errors', () => {
  it('reads the code and message of an error body', () => {
    const error = errorFromBody(
      507,
      JSON.stringify({ error: { code: 'ERR_QUOTA', message: 'Quota exceeded' } }),
    )
    expect(error).toBeInstanceOf(ApiError)
    expect([error.code, error.message, error.status]).toEqual(['ERR_QUOTA', 'Quota exceeded', 507])
    expect(describeError(error)).toBe('Quota exceeded (ERR_QUOTA)')
  })

  it('copes with a body that is not the contract', () => {
    const error = errorFromBody(502, '<html>Bad gateway</html>')
    expect([error.code, error.status]).toEqual(['HTTP_502', 502])
    expect(describeError(error)).toBe('The node answered 502')
  })

  it('knows a refused token', () => {
    expect(
      errorFromBody(401, '{"error":{"code":"ERR_UNAUTHENTICATED","message":"no"}}').unauthenticated,
    ).toBe(true)
    expect(errorFromBody(403, '').unauthenticated).toBe(false)
  })

  it('wraps anything thrown', () => {
    expect(toApiError(new TypeError('boom')).message).toBe('boom')
    expect(toApiError('text').code).toBe('ERR_CLIENT')
  })
})
