import { describe, expect, it } from 'vitest'
import { parseRoute, routeHref } from '../app/lib/route.js'
import { signInCode } from '../app/lib/sign-in-code.js'

describe('parseRoute', () => {
  it('reads the page from the hash, the overview by default', () => {
    expect(parseRoute('#/files')).toBe('files')
    expect(parseRoute('#/peers/')).toBe('peers')
    expect(parseRoute('#activity')).toBe('activity')
    expect(parseRoute('#/files?q=x')).toBe('files')
    expect(parseRoute('')).toBe('overview')
    expect(parseRoute('#/nope')).toBe('overview')
    expect(parseRoute('#code=abc')).toBe('overview')
  })

  it('links to a page', () => {
    expect(routeHref('peers')).toBe('#/peers')
  })
})

describe('signInCode', () => {
  it('reads the one-time code from the fragment', () => {
    expect(signInCode('#code=AbC-12_x')).toBe('AbC-12_x')
    expect(signInCode('#code=a%2Bb')).toBe('a+b')
  })

  it('finds none in a route or an empty hash', () => {
    expect(signInCode('')).toBeUndefined()
    expect(signInCode('#/files')).toBeUndefined()
    expect(signInCode('#code=')).toBeUndefined()
    expect(signInCode('#other=1')).toBeUndefined()
  })
})
