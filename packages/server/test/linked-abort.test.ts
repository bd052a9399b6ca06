import { describe, expect, it } from 'vitest'
import { LinkedAbort } from '../src/linked-abort.js'

describe('LinkedAbort', () => {
  it('aborts with the reason of whichever parent aborts, and at once for a parent already aborted', () => {
    const a = new AbortController()
    const b = new AbortController()
    const link = new LinkedAbort([a.signal, undefined, b.signal])
    expect(link.signal.aborted).toBe(false)
    const why = new Error('the client went away')
    b.abort(why)
    expect(link.signal.reason).toBe(why)
    a.abort(new Error('later'))
    expect(link.signal.reason).toBe(why)

    const gone = new AbortController()
    gone.abort('gone')
    expect(new LinkedAbort([gone.signal]).signal.reason).toBe('gone')
  })

  it('stops following its parents once released', () => {
    const parent = new AbortController()
    const link = new LinkedAbort([parent.signal])
    link.release()
    parent.abort(new Error('shutdown'))
    expect(link.signal.aborted).toBe(false)
  })

  it('finishes with one reason made once, and lets go of its parents', () => {
    const parent = new AbortController()
    const first = new LinkedAbort([parent.signal])
    const second = new LinkedAbort([parent.signal])
    first.finish()
    second.finish()
    expect(first.signal.aborted).toBe(true)
    expect(first.signal.reason).toBeInstanceOf(Error)
    expect(second.signal.reason).toBe(first.signal.reason)
    parent.abort(new Error('shutdown'))
    expect(first.signal.reason).toBe(second.signal.reason)
  })
})
