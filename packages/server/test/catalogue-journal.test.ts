import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateOwnerKey, type OwnerKey } from '@cas/crypto'
import { createNodeIdentity, type NodeIdentity, TcpTransport } from '@cas/p2p'
import { afterEach, describe, expect, it } from 'vitest'
import { Catalogue } from '../src/catalogue.js'
import { type CatalogueOp, CatalogueState } from '../src/catalogue-log.js'
import { FileServer } from '../src/index.js'

/**
 * The catalogue's log on disk: every put and delete of the owner's objects is an op, written in the
 * same transaction as the tables, read back at start, and seeded once for a catalogue that predates
 * it. What the log says must be what the node lists.
 */

let dir: string | undefined
let server: FileServer | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
  if (dir) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

async function start(dataDir: string, ownerKey: OwnerKey, identity: NodeIdentity): Promise<FileServer> {
  const s = new FileServer({ dataDir, ownerKey, identity, transport: new TcpTransport({ identity }) })
  await s.start()
  return s
}

async function journal(dataDir: string): Promise<CatalogueOp[]> {
  const catalogue = await Catalogue.open(join(dataDir, 'catalogue'))
  try {
    return [...catalogue.journalOps()]
  } finally {
    await catalogue.close()
  }
}

function stateOf(ops: CatalogueOp[]): CatalogueState {
  const state = new CatalogueState()
  for (const op of ops) state.apply(op)
  return state
}

describe('the catalogue log on disk', () => {
  it('records puts and deletes as ops whose merged state is what the node lists, across a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cas-journal-'))
    const ownerKey = generateOwnerKey()
    const identity = await createNodeIdentity()
    server = await start(dir, ownerKey, identity)
    const first = await server.put(Buffer.from('first notes'), { name: 'notes.txt' })
    const photo = await server.put(Buffer.from('photo'), { name: 'photo.jpg' })
    const nameless = await server.put(Buffer.from('no name'))
    const second = await server.put(Buffer.from('second notes'), { name: 'notes.txt' })
    await server.delete(photo.cid)
    await server.stop()
    server = undefined

    const ops = await journal(dir)
    expect(ops.map((o) => o.t)).toEqual(['put', 'put', 'put', 'put', 'delete'])
    // One device wrote them all, under its own id.
    const device = ops[0]?.id.split(':')[0]
    expect(device).toMatch(/^[0-9a-f]{16}$/)
    expect(ops.every((o) => o.id.startsWith(`${device}:`))).toBe(true)
    const state = stateOf(ops)
    // notes.txt names the second put only; the first object stays, without that name.
    expect(state.names()).toEqual(new Map([['notes.txt', [second.cid]]]))
    expect([...state.objects().keys()].sort()).toEqual([first.cid, nameless.cid, second.cid].sort())
    expect(state.objects().get(first.cid)?.names).toEqual([])

    server = await start(dir, ownerKey, identity)
    const listed = await server.list()
    expect(listed.map((o) => o.cid).sort()).toEqual([...state.objects().keys()].sort())
    // Ids count on after a restart: the next op does not reuse one.
    const later = await server.put(Buffer.from('after the restart'), { name: 'later.txt' })
    await server.stop()
    server = undefined
    const again = await journal(dir)
    expect(new Set(again.map((o) => o.id)).size).toBe(again.length)
    expect(stateOf(again).names().get('later.txt')).toEqual([later.cid])
  })

  it('seeds the log once from a catalogue written before it, one put per name', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cas-journal-seed-'))
    const catalogue = await Catalogue.open(join(dir, 'catalogue'))
    const cid = (n: number) => n.toString(16).padStart(64, '0')
    const record = (n: number, names: string[], shared = false) => ({
      cid: cid(n),
      size: n,
      names,
      created: 0,
      replication: 2,
      holders: [],
      shared,
    })
    await catalogue.putObject(record(1, ['a.txt', 'b.txt']))
    await catalogue.putObject(record(2, []))
    await catalogue.putObject(record(3, ['read-through-a-capability'], true))
    await catalogue.setFormat(2)
    await catalogue.close()

    const identity = await createNodeIdentity()
    server = await start(dir, generateOwnerKey(), identity)
    await server.stop()
    server = undefined
    const ops = await journal(dir)
    expect(ops).toHaveLength(3)
    const state = stateOf(ops)
    expect(state.names()).toEqual(
      new Map([
        ['a.txt', [cid(1)]],
        ['b.txt', [cid(1)]],
      ]),
    )
    expect([...state.objects().keys()].sort()).toEqual([cid(1), cid(2)])

    // Seeded once: a second start adds nothing.
    server = await start(dir, generateOwnerKey(), identity)
    await server.stop()
    server = undefined
    expect(await journal(dir)).toHaveLength(3)
  })
})
