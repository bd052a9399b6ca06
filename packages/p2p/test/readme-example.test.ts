import { describe, expect, it } from 'vitest'
import { createNodeIdentity, MemoryNetwork, MemoryTransport, TcpTransport } from '../src/index.js'

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

  it('runs the in-memory example as written', async () => {
    const network = new MemoryNetwork()
    const alice = new MemoryTransport({ network, identity: await createNodeIdentity() })
    const bob = new MemoryTransport({ network, identity: await createNodeIdentity() })
    await bob.listen() // 'memory:1', …

    bob.handle(async (req) => ({ body: { echo: req.body }, data: Buffer.from('bytes too') }))
    const peer = await alice.dial(bob.listenAddr)
    const res = await peer.request('hi') // encoded, checked and streamed as over TCP
    const parts: Uint8Array[] = []
    for await (const chunk of res.data ?? []) parts.push(chunk)

    await alice.close()
    await bob.close()

    expect(res.body).toEqual({ echo: 'hi' })
    expect(Buffer.concat(parts).toString()).toBe('bytes too')
  })
})
