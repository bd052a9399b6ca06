import { afterEach, describe, expect, it } from 'vitest'
import { Transports } from './helpers.js'

const transports = new Transports()

afterEach(async () => {
  await transports.closeAll()
})

describe('keep-alive after this process did not run', () => {
  it('keeps a live peer whose frames wait unread because this process was paused past the idle timeout', async () => {
    const opts = { pingInterval: 50, idleTimeout: 200 }
    const a = await transports.listening(0, opts)
    const b = await transports.listening(1, opts)
    b.handle(async () => ({ body: 'still here' }))
    const peer = await a.dial(b.listenAddr)
    // Nothing in this process runs for three idle timeouts, as under SIGSTOP or a suspended laptop; when it
    // runs again, the keep-alive timers fire before the sockets are read.
    const resumeAt = Date.now() + 600
    while (Date.now() < resumeAt) {
      // busy: the event loop is held, like a stopped process
    }
    expect((await peer.request('?')).body).toBe('still here')
    expect(a.peer(b.nodeId)).toBe(peer)
  })
})
