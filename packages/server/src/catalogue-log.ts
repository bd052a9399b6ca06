import * as z from 'zod'
import { ID_PATTERN } from './ids.js'
import { MAX_NAME_BYTES } from './names.js'

/**
 * The owner's catalogue as a log of operations that every device of the owner can merge in any
 * order and reach the same state (an observed-remove set of puts, and a multi-value register per
 * name). A put of an object adds it, under a name or none; a later put of the same name *replaces*
 * the bindings of that name its device had seen; a delete *removes* the puts of that object its
 * device had seen. What no device had seen survives: a name written on two devices apart keeps both
 * objects (a conflict, visible), and a re-put on one device outlives a concurrent delete on another.
 */

/**
 * `<device>:<counter>`: a device's id (16 random hex digits, made with its catalogue) and its count
 * of operations, so ids never collide.
 */
export const OP_ID_PATTERN = /^[0-9a-f]{16}:\d{1,15}$/
/** Most op ids one operation may name: bounds what a forged or runaway op can make a device read. */
export const MAX_OP_REFS = 1024

const opId = z.string().regex(OP_ID_PATTERN)
const cid = z.string().regex(ID_PATTERN)
const at = z.number().int().nonnegative()

/** One operation; the schema is the contract for ops read back from the network. */
export const catalogueOpSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('put'),
    id: opId,
    cid,
    size: z.number().int().nonnegative(),
    at,
    replication: z.union([z.number().int().min(1).max(64), z.literal('all')]),
    name: z
      .string()
      .min(1)
      .refine((n) => Buffer.byteLength(n) <= MAX_NAME_BYTES, 'name too long')
      .optional(),
    replaces: z.array(opId).max(MAX_OP_REFS),
  }),
  z.object({ t: z.literal('delete'), id: opId, cid, at, removes: z.array(opId).max(MAX_OP_REFS) }),
  // A folder as it was at `at`: its tree (an internal object, one per folder) and totals to list.
  z.object({
    t: z.literal('snapshot'),
    id: opId,
    at,
    root: z
      .string()
      .min(1)
      .refine((n) => Buffer.byteLength(n) <= MAX_NAME_BYTES, 'root too long'),
    tree: cid,
    files: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
  }),
])
export type CatalogueOp = z.infer<typeof catalogueOpSchema>
export type PutOp = Extract<CatalogueOp, { t: 'put' }>
export type DeleteOp = Extract<CatalogueOp, { t: 'delete' }>
export type SnapshotOp = Extract<CatalogueOp, { t: 'snapshot' }>

/** An object as the merged log lists it. */
export interface LoggedObject {
  cid: string
  size: number
  /** The earliest put of it that still stands. */
  created: number
  replication: number | 'all'
  /** Names bound to it and not replaced, sorted. */
  names: string[]
}

/**
 * The merged state of every op applied, whatever their order. `apply` is idempotent; the views
 * are computed from the sets, so two states holding the same ops list the same objects and names.
 */
export class CatalogueState {
  readonly #ops = new Map<string, CatalogueOp>()
  readonly #removed = new Set<string>()
  readonly #replaced = new Set<string>()
  // Indexes of what stands, so that a device making an op finds what it names without a scan.
  readonly #putsByCid = new Map<string, Set<string>>()
  readonly #bindings = new Map<string, Set<string>>()
  readonly #snapshots = new Map<string, SnapshotOp>()

  get size(): number {
    return this.#ops.size
  }

  has(id: string): boolean {
    return this.#ops.has(id)
  }

  /** Every op, in no particular order. */
  ops(): Iterable<CatalogueOp> {
    return this.#ops.values()
  }

  apply(op: CatalogueOp): void {
    if (this.#ops.has(op.id)) return
    this.#ops.set(op.id, op)
    if (op.t === 'snapshot') {
      this.#snapshots.set(op.id, op)
      return
    }
    if (op.t === 'delete') {
      for (const id of op.removes) {
        this.#removed.add(id)
        const put = this.#ops.get(id)
        if (put?.t !== 'put') continue
        this.#putsByCid.get(put.cid)?.delete(id)
        if (put.name !== undefined) this.#bindings.get(put.name)?.delete(id)
      }
      return
    }
    for (const id of op.replaces) {
      this.#replaced.add(id)
      const put = this.#ops.get(id)
      if (put?.t === 'put' && put.name !== undefined) this.#bindings.get(put.name)?.delete(id)
    }
    // An op can arrive after the one that removed or replaced it: then it never stands.
    if (this.#removed.has(op.id)) return
    add(this.#putsByCid, op.cid, op.id)
    if (op.name !== undefined && !this.#replaced.has(op.id)) add(this.#bindings, op.name, op.id)
  }

  objects(): Map<string, LoggedObject> {
    return new Map(this.listed(this.#putsByCid.keys()).map((obj) => [obj.cid, obj]))
  }

  /** Each name with the objects bound to it; more than one is a conflict to show, not to pick from. */
  names(): Map<string, string[]> {
    const out = new Map<string, string[]>()
    for (const name of this.#bindings.keys()) {
      const cids = this.cidsNamed(name)
      if (cids.length > 0) out.set(name, cids)
    }
    return out
  }

  /** Every snapshot, oldest first (ties by id, so every device lists them in one order). */
  snapshots(): SnapshotOp[] {
    return [...this.#snapshots.values()].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id))
  }

  get(id: string): CatalogueOp | undefined {
    return this.#ops.get(id)
  }

  /** One object as the log lists it, or undefined when no put of it stands. */
  object(cid: string): LoggedObject | undefined {
    const ids = this.#putsByCid.get(cid)
    if (!ids || ids.size === 0) return undefined
    let obj: LoggedObject | undefined
    for (const id of ids) {
      const op = this.#ops.get(id)
      if (op?.t !== 'put') continue
      obj ??= { cid, size: op.size, created: op.at, replication: op.replication, names: [] }
      obj.created = Math.min(obj.created, op.at)
      if (op.name !== undefined && !this.#replaced.has(id) && !obj.names.includes(op.name))
        obj.names.push(op.name)
    }
    obj?.names.sort()
    return obj
  }

  /** Of these objects, those the log lists, as it lists them. */
  listed(cids: Iterable<string>): LoggedObject[] {
    const out: LoggedObject[] = []
    for (const cid of cids) {
      const obj = this.object(cid)
      if (obj) out.push(obj)
    }
    return out
  }

  /** The objects a name is bound to (more than one: a conflict). */
  cidsNamed(name: string): string[] {
    const cids = new Set<string>()
    for (const id of this.#bindings.get(name) ?? []) {
      const op = this.#ops.get(id)
      if (op?.t === 'put') cids.add(op.cid)
    }
    return [...cids].sort()
  }

  /** The objects an op changes: its own, and those of the ops it replaces or removes. */
  touchedBy(op: CatalogueOp): Set<string> {
    // A snapshot lists objects; it changes none of them.
    if (op.t === 'snapshot') return new Set()
    const cids = new Set([op.cid])
    for (const id of op.t === 'put' ? op.replaces : op.removes) {
      const ref = this.#ops.get(id)
      if (ref && ref.t !== 'snapshot') cids.add(ref.cid)
    }
    return cids
  }

  /** The ops a device names in a put of `name`: the bindings of that name it has seen. */
  bindingsOf(name: string): string[] {
    return [...(this.#bindings.get(name) ?? [])].sort()
  }

  /** The ops a device names in a delete of `cid`: the puts of it it has seen. */
  putsOf(cid: string): string[] {
    return [...(this.#putsByCid.get(cid) ?? [])].sort()
  }
}

function add(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key) ?? new Set<string>()
  ids.add(id)
  index.set(key, ids)
}

/**
 * This device's side of the log: makes its ops from what its state has seen, with ids that count
 * on from the highest it has written. An op is applied to the state when made, so a second put of
 * a name at the same moment replaces the first instead of standing beside it.
 */
export class DeviceLog {
  #counter = 0

  constructor(
    readonly device: string,
    readonly state: CatalogueState,
  ) {
    const prefix = `${device}:`
    for (const op of state.ops()) {
      if (op.id.startsWith(prefix))
        this.#counter = Math.max(this.#counter, Number(op.id.slice(prefix.length)))
    }
  }

  put(obj: { cid: string; size: number; replication: number | 'all'; name?: string | undefined }): PutOp {
    const op: PutOp = {
      t: 'put',
      id: this.#nextId(),
      cid: obj.cid,
      size: obj.size,
      at: Date.now(),
      replication: obj.replication,
      ...(obj.name !== undefined && { name: obj.name }),
      replaces: obj.name === undefined ? [] : this.state.bindingsOf(obj.name).slice(0, MAX_OP_REFS),
    }
    this.state.apply(op)
    return op
  }

  /**
   * Gives `cid` the name `to` in place of the names in `from` (those bound to this object): one put
   * that replaces those bindings, and any of `to`, as a put of that name would. Undefined when the
   * log does not list the object.
   */
  rename(cid: string, from: readonly string[], to: string): PutOp | undefined {
    const obj = this.state.object(cid)
    if (!obj) return undefined
    const replaces = new Set(this.state.bindingsOf(to))
    for (const name of from) {
      for (const id of this.state.bindingsOf(name)) {
        const put = this.state.get(id)
        if (put?.t === 'put' && put.cid === cid) replaces.add(id)
      }
    }
    const op: PutOp = {
      t: 'put',
      id: this.#nextId(),
      cid,
      size: obj.size,
      at: Date.now(),
      replication: obj.replication,
      name: to,
      replaces: [...replaces].sort().slice(0, MAX_OP_REFS),
    }
    this.state.apply(op)
    return op
  }

  /** The delete of every put of `cid` this device has seen; undefined when it has seen none. */
  delete(cid: string): DeleteOp | undefined {
    const removes = this.state.putsOf(cid)
    if (removes.length === 0) return undefined
    const op: DeleteOp = {
      t: 'delete',
      id: this.#nextId(),
      cid,
      at: Date.now(),
      removes: removes.slice(0, MAX_OP_REFS),
    }
    this.state.apply(op)
    return op
  }

  /** Records a snapshot of a folder whose tree is already stored. */
  snapshot(snap: { root: string; tree: string; files: number; bytes: number }): SnapshotOp {
    const op: SnapshotOp = { t: 'snapshot', id: this.#nextId(), at: Date.now(), ...snap }
    this.state.apply(op)
    return op
  }

  /** How many ops this device has made: its ids are `<device>:1` to `<device>:<count>`. */
  get count(): number {
    return this.#counter
  }

  #nextId(): string {
    return `${this.device}:${++this.#counter}`
  }
}
