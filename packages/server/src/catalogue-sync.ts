import { backoffDelay } from '@cas/p2p'
import * as z from 'zod'
import { type HeadContent, headIdOf, makeHead, openHead, type SignedHead } from './catalogue-head.js'
import { type CatalogueOp, catalogueOpSchema } from './catalogue-log.js'
import type { ServerContext } from './context.js'
import { errorCode } from './errors.js'
import { livePeers } from './placement.js'
import { askHeads, sendHead } from './protocol/heads.js'
import { rankNodes } from './rendezvous.js'

/**
 * Carries the owner's catalogue log through the network. Publishing: this device's new ops go into
 * a segment (an ordinary object: sealed, replicated, audited, repaired like any other), and its head
 * (the list of its segments, sealed and owner-signed, with a growing sequence number) goes to the
 * peers ranked for the owner. Syncing: the heads of every device of the owner are gathered from the
 * connected peers, the segments not yet applied are fetched, and their ops are merged into the log
 * and the catalogue's tables. A new machine that has only the owner key gets the catalogue back this
 * way; two machines of one owner converge this way.
 */

/** Peers a head is sent to: the first ranked for the owner among the members (all when fewer). */
export const HEAD_HOLDERS = 4

/** The members a head of this owner goes to, and a new device asks first. */
function headHolders(ctx: ServerContext): string[] {
  // Members reached at their address first: a minted record pointing nowhere takes no head.
  const ranked = rankNodes(`catalogue-head/${ctx.ownerId}`, livePeers(ctx))
  const reached = ranked.filter((n) => !ctx.members.unverified(n))
  return [...reached, ...ranked.filter((n) => ctx.members.unverified(n))].slice(0, HEAD_HOLDERS)
}
/** A failed publish is tried again after about this long, doubling up to the max (ms). */
const PUBLISH_RETRY_BASE = 2_000
const PUBLISH_RETRY_MAX = 60_000
/** A device with this many segments writes all its ops into one and starts its list again. */
export const COMPACT_AT_SEGMENTS = 128
/** The largest segment read back: far above what COMPACT_AT_SEGMENTS puts in one. */
const MAX_SEGMENT_BYTES = 64 * 1024 * 1024

const segmentSchema = z.object({
  v: z.literal(1),
  device: z.string().regex(/^[0-9a-f]{16}$/),
  ops: z.array(catalogueOpSchema),
})

/** What this device keeps of its own head between runs. */
interface OwnHead {
  seq: number
  segments: string[]
  /** The highest of its op counters that a segment holds. */
  published: number
}

export interface SegmentIo {
  /** Stores a segment as an internal object; resolves with its cid and how many holders took it. */
  put(bytes: Uint8Array): Promise<{ cid: string; replicas: number }>
  /** Reads a segment back by cid (from here or the network), at most `max` bytes. */
  get(cid: string, max: number): Promise<Uint8Array>
  /** Removes the local plaintext of an object another device deleted. */
  evict(cid: string): Promise<void>
}

export interface SyncResult {
  /** Peers that answered with the heads they hold. */
  peers: number
  /** Heads of other devices of this owner found. */
  devices: number
  segments: number
  ops: number
  /** Objects the catalogue lists once the sync is done. */
  objects: number
  /** Segments that could not be read this time (their holders unreachable); a later sync retries. */
  missing: number
}

export interface CatalogueSyncStatus {
  ops: number
  /** This device's ops not yet in a segment a head lists. */
  unpublished: number
  /** Sequence number of this device's head, and how many peers took it at its last publish. */
  seq: number
  headHolders: number
  /** A publish is scheduled or running: segments and heads may still be on their way to peers. */
  publishing: boolean
  lastSync: number | undefined
}

export class CatalogueSync {
  readonly #ctx: ServerContext
  readonly #io: SegmentIo
  readonly #delay: number
  #chain: Promise<unknown> = Promise.resolve()
  #timer: NodeJS.Timeout | undefined
  #headHolders = 0
  #publishing = 0
  #lastSync: number | undefined
  /** Publishes in a row that failed. */
  #publishFailures = 0
  #stopped = false

  constructor(ctx: ServerContext, io: SegmentIo, opts: { publishDelay: number }) {
    this.#ctx = ctx
    this.#io = io
    this.#delay = opts.publishDelay
  }

  get #device(): string {
    return this.#ctx.log.device
  }

  #own(): OwnHead {
    return this.#ctx.catalogue.syncState<OwnHead>('own') ?? { seq: 0, segments: [], published: 0 }
  }

  /** This device's ops past what its segments hold, in order. */
  #unpublished(published: number): CatalogueOp[] {
    const prefix = `${this.#device}:`
    const ops: CatalogueOp[] = []
    for (const op of this.#ctx.log.state.ops()) {
      if (op.id.startsWith(prefix) && counterOf(op.id) > published) ops.push(op)
    }
    return ops.sort((a, b) => counterOf(a.id) - counterOf(b.id))
  }

  /** A local change happened: publish soon, once changes made together are in. */
  noteChange(delay = this.#delay): void {
    if (this.#stopped || this.#timer) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.publish().then(
        () => {
          this.#publishFailures = 0
        },
        (err: unknown) => {
          // Again later, waiting longer each time (a peer that comes back publishes at once anyway).
          const retryMs = backoffDelay(this.#publishFailures++, PUBLISH_RETRY_BASE, PUBLISH_RETRY_MAX)
          this.#ctx.logger.warn({ err: String(err), retryMs }, 'could not publish the catalogue; will retry')
          this.noteChange(retryMs)
        },
      )
    }, delay)
    this.#timer.unref()
  }

  /** A peer came: if no peer holds this device's head yet, publish to it. */
  notePeer(): void {
    if (this.#headHolders === 0) this.noteChange()
  }

  /** How many of this device's ops no segment holds yet (its op ids are numbered without gaps). */
  #unpublishedCount(): number {
    return this.#ctx.log.count - this.#own().published
  }

  status(): CatalogueSyncStatus {
    const own = this.#own()
    return {
      ops: this.#ctx.log.state.size,
      unpublished: this.#unpublishedCount(),
      seq: own.seq,
      headHolders: this.#headHolders,
      publishing: this.#timer !== undefined || this.#publishing > 0,
      lastSync: this.#lastSync,
    }
  }

  /** Writes this device's new ops to a segment and sends its head to the peers ranked for the owner. */
  publish(): Promise<number> {
    this.#publishing++
    return this.#serial(() => this.#publish()).finally(() => {
      this.#publishing--
    })
  }

  /** Gathers every device's head from the connected peers and merges what is new. */
  sync(): Promise<SyncResult> {
    return this.#serial(() => this.#sync())
  }

  /** Stops scheduling; publishes what is pending once more if peers are there to take it. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (livePeers(this.#ctx).length > 0 && this.#unpublishedCount() > 0) {
      await this.publish().catch(() => undefined)
    }
    await this.#chain.catch(() => undefined)
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn)
    this.#chain = run.catch(() => undefined)
    return run
  }

  async #publish(): Promise<number> {
    let own = this.#own()
    const fresh = this.#unpublished(own.published)
    if (fresh.length > 0) {
      const compact = own.segments.length + 1 >= COMPACT_AT_SEGMENTS
      const ops = compact ? this.#unpublished(0) : fresh
      const bytes = Buffer.from(JSON.stringify({ v: 1, device: this.#device, ops }))
      const { cid, replicas } = await this.#io.put(bytes)
      // A segment only this device holds would be lost with it: not published until a holder has it.
      if (replicas === 0 && livePeers(this.#ctx).length > 0) {
        throw new Error(`catalogue segment ${cid.slice(0, 12)} reached no holder`)
      }
      own = {
        seq: Math.max(own.seq + 1, Date.now()),
        segments: compact ? [cid] : [...own.segments, cid],
        published: counterOf((fresh.at(-1) as CatalogueOp).id),
      }
      await this.#ctx.catalogue.setSyncState({ own, [`seg/${cid}`]: true })
    } else if (this.#headHolders > 0 || own.segments.length === 0) {
      return this.#headHolders
    }
    const content: HeadContent = { v: 1, device: this.#device, segments: own.segments }
    const head = makeHead(this.#ctx.ownerKey, this.#ctx.secrets, content, own.seq)
    this.#headHolders = await this.#sendHead(head)
    return this.#headHolders
  }

  async #sendHead(head: SignedHead): Promise<number> {
    const ranked = headHolders(this.#ctx)
    const sent = await Promise.allSettled(
      ranked.map(async (nodeId) => {
        const peer = await this.#ctx.members.peer(nodeId)
        if (!peer) throw new Error('not reachable')
        // false: it holds this head already, or a newer one of this device: it holds one either way.
        await sendHead(this.#ctx, peer, head)
      }),
    )
    sent.forEach((r, i) => {
      if (r.status === 'rejected') {
        this.#ctx.logger.info(
          { nodeId: ranked[i], code: errorCode(r.reason) ?? String(r.reason) },
          'a peer did not take the catalogue head',
        )
      }
    })
    return sent.filter((r) => r.status === 'fulfilled').length
  }

  async #sync(): Promise<SyncResult> {
    const ctx = this.#ctx
    // The peers at hand, and the members the heads are sent to (connected to now if need be).
    const ranked = await ctx.members.peers(headHolders(ctx))
    const byNode = new Map(ctx.transport.peers().map((p) => [p.nodeId, p]))
    for (const p of ranked) if (p) byNode.set(p.nodeId, p)
    const peers = [...byNode.values()]
    const answers = await Promise.allSettled(peers.map((p) => askHeads(ctx, p)))
    // With the heads this node holds for its own owner: another device of the owner may have sent it its head.
    const heads = ctx.catalogue.headsOf(ctx.ownerId)
    let answered = 0
    for (const a of answers) {
      if (a.status !== 'fulfilled') continue
      answered++
      heads.push(...a.value)
    }
    const newest = new Map<string, SignedHead>()
    for (const head of heads) {
      const prev = newest.get(head.headId)
      if (!prev || prev.seq < head.seq) newest.set(head.headId, head)
    }
    const ownHeadId = headIdOf(ctx.secrets, this.#device)
    let devices = 0
    let segments = 0
    let missing = 0
    const fresh: CatalogueOp[] = []
    const applied: Record<string, true> = {}
    for (const head of newest.values()) {
      if (head.headId === ownHeadId) continue
      const content = openHead(ctx.secrets, head)
      if (!content) continue
      devices++
      for (const cid of content.segments) {
        if (ctx.catalogue.syncState(`seg/${cid}`) === true || applied[`seg/${cid}`]) continue
        let ops: CatalogueOp[]
        try {
          ops = await this.#readSegment(cid, content.device)
        } catch (err) {
          missing++
          ctx.logger.warn(
            { cid, code: errorCode(err), err: String(err) },
            'could not read a catalogue segment',
          )
          continue
        }
        segments++
        applied[`seg/${cid}`] = true
        fresh.push(...ops)
      }
    }
    const ops = await this.#merge(fresh)
    if (segments > 0) await ctx.catalogue.setSyncState(applied)
    this.#lastSync = Date.now()
    return { peers: answered, devices, segments, ops, objects: ctx.log.state.objects().size, missing }
  }

  async #readSegment(cid: string, device: string): Promise<CatalogueOp[]> {
    const bytes = await this.#io.get(cid, MAX_SEGMENT_BYTES)
    await this.#ctx.catalogue.markCatalogueSegment(cid)
    const parsed = segmentSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')))
    // A device writes only its own ops: a segment that holds another's is not believed.
    if (parsed.device !== device || parsed.ops.some((op) => !op.id.startsWith(`${device}:`))) {
      throw new Error(`segment ${cid} holds ops of another device`)
    }
    return parsed.ops
  }

  /** Applies ops of other devices to the log and sets the tables to what the merged log lists. */
  async #merge(ops: CatalogueOp[]): Promise<number> {
    const { state } = this.#ctx.log
    // Once each (a compacted segment repeats the ops of the segments before it), and only new ones.
    const fresh = [...new Map(ops.filter((op) => !state.has(op.id)).map((op) => [op.id, op])).values()]
    if (fresh.length === 0) return 0
    const touched = new Set<string>()
    for (const op of fresh) {
      state.apply(op)
      for (const cid of state.touchedBy(op)) touched.add(cid)
    }
    const listed = state.listed(touched)
    await this.#ctx.catalogue.putLogged(listed, fresh)
    const stands = new Set(listed.map((obj) => obj.cid))
    for (const cid of touched) {
      if (stands.has(cid)) continue
      const rec = this.#ctx.catalogue.getObject(cid)
      if (rec && !rec.shared && rec.kind !== 'catalogue') {
        // Another device deleted it (and told the holders); drop what is left of it here.
        await this.#ctx.catalogue.removeObject(cid)
        await this.#io.evict(cid)
      }
    }
    return fresh.length
  }
}

function counterOf(id: string): number {
  return Number(id.slice(id.indexOf(':') + 1))
}
