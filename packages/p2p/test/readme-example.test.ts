import { describe, expect, it } from 'vitest'
import { createNodeIdentity, TcpTransport } from '../src/index.js'

// The README's first example, kept runnable.
describe('the README example', () => {
  it('runs as written', async () => {
    const alice = new TcpTransport({ identity: await createNodeIdentity(), tls: true })
    const bob = new TcpTransport({ identity: await createNodeIdentity(), tls: true })
    await alice.listen()
    await bob.listen()

    bob.handle(async (req) => {
      if (req.body === 'hello') return { body: 'hi' }
      return { body: { size: 3 }, data: Buffer.from('abc') } // any Readable or async iterable works too
    })

    const peer = await alice.dial(bob.listenAddr, { expectNodeId: bob.nodeId })
    const greeting = (await peer.request('hello')).body // 'hi'
    const res = await peer.request('file')
    const parts: Uint8Array[] = []
    for await (const chunk of res.data ?? []) parts.push(chunk)

    await alice.close()
    await bob.close()

    expect(greeting).toBe('hi')
    expect(res.body).toEqual({ size: 3 })
    expect(Buffer.concat(parts).toString()).toBe('abc')
  })
})
