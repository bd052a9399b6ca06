import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateOwnerKey } from '@cas/crypto'
import { createNodeIdentity, TcpTransport } from '@cas/p2p'
import { afterEach, expect, it } from 'vitest'
import { FileServer, ownerSigner } from '../src/index.js'
import { waitFor } from './helpers/cluster.js'
import { readAll } from './helpers/data.js'

const servers: FileServer[] = []
let root: string | undefined
afterEach(async () => {
  await Promise.allSettled(servers.map((s) => s.stop()))
  if (root) await rm(root, { recursive: true, force: true })
})

it('runs the README example over TLS with the authenticated handshake', async () => {
  root = await mkdtemp(join(tmpdir(), 'cas-readme-'))
  async function startNode(dataDir: string, bootstrap: string[] = []) {
    const ownerKey = generateOwnerKey()
    const identity = await createNodeIdentity()
    const transport = new TcpTransport({ identity, tls: true, owner: ownerSigner(ownerKey) })
    const server = new FileServer({ dataDir, ownerKey, identity, transport, replication: 2, bootstrap })
    servers.push(server)
    await server.start()
    return server
  }
  const a = await startNode(join(root, 'a'))
  const b = await startNode(join(root, 'b'), [a.listenAddr])
  await startNode(join(root, 'c'), [a.listenAddr])
  await waitFor(() => a.peers().filter((p) => p.connected).length === 2, { what: 'a to see two peers' })
  const { cid, replicas } = await a.put(Buffer.from('hello, cas'), { name: 'hello.txt' })
  expect(replicas).toHaveLength(2)
  await a.evictLocal(cid)
  const { stream } = await a.get(cid)
  expect((await readAll(stream)).toString()).toBe('hello, cas')
  const capability = a.share(cid)
  expect((await readAll((await b.get(capability)).stream)).toString()).toBe('hello, cas')
  expect(a.peers().every((p) => p.ownerId !== undefined)).toBe(true)
})
