import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  type CatalogueOp,
  CatalogueState,
  catalogueOpSchema,
  DeviceLog,
  MAX_OP_REFS,
  type PutOp,
} from '../src/catalogue-log.js'

/** A device of one owner: makes ops from what its own state has seen, and takes in others'. */
class Device {
  readonly state = new CatalogueState()
  readonly made: CatalogueOp[] = []
  #counter = 0
  constructor(readonly id: string) {}

  put(cid: string, name?: string): CatalogueOp {
    return this.#make({
      t: 'put',
      id: this.#nextId(),
      cid,
      size: 1,
      at: Date.now(),
      replication: 2,
      ...(name !== undefined && { name }),
      replaces: name === undefined ? [] : this.state.bindingsOf(name),
    })
  }

  delete(cid: string): CatalogueOp {
    return this.#make({
      t: 'delete',
      id: this.#nextId(),
      cid,
      at: Date.now(),
      removes: this.state.putsOf(cid),
    })
  }

  receive(ops: Iterable<CatalogueOp>): void {
    for (const op of ops) this.state.apply(op)
  }

  #nextId(): string {
    return `${this.id}:${++this.#counter}`
  }

  #make(op: CatalogueOp): CatalogueOp {
    catalogueOpSchema.parse(op)
    this.state.apply(op)
    this.made.push(op)
    return op
  }
}

/** The DeviceLog view of a test Device: its ops are recorded as the device's own. */
class DeviceLogFor {
  readonly #log: DeviceLog
  constructor(readonly device: Device) {
    this.#log = new DeviceLog(device.id, device.state)
  }
  rename(cid: string, from: string[], to: string): PutOp | undefined {
    const op = this.#log.rename(cid, from, to)
    if (op) this.device.made.push(op)
    return op
  }
}

const cidOf = (n: number) => n.toString(16).padStart(64, '0')
const view = (s: CatalogueState) => ({
  objects: [...s.objects().values()]
    .sort((a, b) => a.cid.localeCompare(b.cid))
    .map((o) => ({ ...o, created: 0 })),
  names: [...s.names()].sort(([a], [b]) => a.localeCompare(b)),
})

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items]
  let x = seed || 1
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    const j = x % (i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

describe('the catalogue log', () => {
  it('reaches the same state from the same ops in any order, and two devices converge once they meet', () => {
    const a = new Device('a'.repeat(16))
    const b = new Device('b'.repeat(16))
    const names = ['notes.txt', 'photo.jpg', 'a/b/c.md', 'todo']
    let seed = 7
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    // 400 ops on two devices that meet now and then.
    for (let i = 0; i < 400; i++) {
      const d = rand(2) === 0 ? a : b
      const r = rand(10)
      if (r < 6) d.put(cidOf(rand(30)), rand(4) === 0 ? undefined : names[rand(names.length)])
      else if (r < 9) d.delete(cidOf(rand(30)))
      if (rand(25) === 0) {
        a.receive(b.made)
        b.receive(a.made)
      }
    }
    a.receive(b.made)
    b.receive(a.made)
    expect(view(a.state)).toEqual(view(b.state))
    const all = [...a.made, ...b.made]
    for (let s = 1; s <= 5; s++) {
      const fresh = new CatalogueState()
      for (const op of shuffled(all, s)) fresh.apply(op)
      // Applying twice changes nothing.
      for (const op of shuffled(all, s + 100)) fresh.apply(op)
      expect(view(fresh)).toEqual(view(a.state))
      // The indexes a device makes its next op from agree too, whatever order built them.
      for (const name of names) expect(fresh.bindingsOf(name)).toEqual(a.state.bindingsOf(name))
      for (let c = 0; c < 30; c++) expect(fresh.putsOf(cidOf(c))).toEqual(a.state.putsOf(cidOf(c)))
    }
    expect(a.state.objects().size).toBeGreaterThan(0)
  })

  it('keeps both objects of a name written on two devices apart: a conflict, visible', () => {
    const a = new Device('a'.repeat(16))
    const b = new Device('b'.repeat(16))
    a.put(cidOf(1), 'notes.txt')
    b.receive(a.made)
    a.put(cidOf(2), 'notes.txt')
    b.put(cidOf(3), 'notes.txt')
    a.receive(b.made)
    b.receive(a.made)
    expect(a.state.names().get('notes.txt')).toEqual([cidOf(2), cidOf(3)])
    expect(view(b.state)).toEqual(view(a.state))
    // The older object lost its name to both, but is still listed: a name written again is not a delete.
    expect(a.state.objects().get(cidOf(1))?.names).toEqual([])
    // Writing the name once more, having seen both, settles it.
    a.put(cidOf(4), 'notes.txt')
    b.receive(a.made)
    expect(b.state.names().get('notes.txt')).toEqual([cidOf(4)])
  })

  it('lets a put on one device outlive a concurrent delete on another, and a delete of what it saw win', () => {
    const a = new Device('a'.repeat(16))
    const b = new Device('b'.repeat(16))
    a.put(cidOf(9), 'kept.bin')
    b.receive(a.made)
    b.delete(cidOf(9))
    a.put(cidOf(9), 'kept-again.bin') // not seen by b's delete
    a.receive(b.made)
    b.receive(a.made)
    expect(a.state.objects().get(cidOf(9))?.names).toEqual(['kept-again.bin'])
    expect(view(b.state)).toEqual(view(a.state))
    b.delete(cidOf(9))
    a.receive(b.made)
    expect(a.state.objects().has(cidOf(9))).toBe(false)
    expect(a.state.names().size).toBe(0)
  })

  it('renames: the name moves, the object stays; two renames apart leave both new names', () => {
    const a = new Device('a'.repeat(16))
    const b = new Device('b'.repeat(16))
    a.put(cidOf(5), 'draft.md')
    a.put(cidOf(6), 'final.md')
    b.receive(a.made)
    const renamed = a.state
    const op = new DeviceLogFor(a).rename(cidOf(5), ['draft.md'], 'final.md')
    expect(op?.replaces.length).toBe(2) // draft.md's binding, and final.md's of the other object
    expect(renamed.names()).toEqual(new Map([['final.md', [cidOf(5)]]]))
    expect(renamed.objects().has(cidOf(6))).toBe(true)
    // Apart, b renames the same object to another name: after they meet it has both.
    new DeviceLogFor(b).rename(cidOf(5), ['draft.md'], 'v2.md')
    a.receive(b.made)
    b.receive(a.made)
    expect(view(a.state)).toEqual(view(b.state))
    expect(a.state.object(cidOf(5))?.names).toEqual(['final.md', 'v2.md'])
  })

  it('refuses ops that break the contract: bad ids, too many references, names over the limit', () => {
    const good = {
      t: 'put',
      id: `${'a'.repeat(16)}:1`,
      cid: cidOf(1),
      size: 1,
      at: 1,
      replication: 2,
      replaces: [],
    }
    expect(catalogueOpSchema.safeParse(good).success).toBe(true)
    const bad = [
      { ...good, id: 'a:1' },
      { ...good, cid: randomBytes(32).toString('hex').toUpperCase() },
      { ...good, replaces: Array.from({ length: MAX_OP_REFS + 1 }, (_, i) => `${'b'.repeat(16)}:${i}`) },
      { ...good, name: 'x'.repeat(2_000) },
      { ...good, t: 'rename' },
    ]
    for (const op of bad) expect(catalogueOpSchema.safeParse(op).success).toBe(false)
  })
})
