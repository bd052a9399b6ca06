import type { Readable } from 'node:stream'
import type { SnapshotEntry } from '@cas/server'

/**
 * What the HTTP API needs from a node: the @cas/server FileServer satisfies it. Results
 * other than streams go to clients as JSON, so they are typed as plain objects here.
 */
export interface NodeBackend {
  put(
    source: Readable,
    opts: { name?: string; replication?: number | 'all'; signal?: AbortSignal },
  ): Promise<object>
  /**
   * Resolves once the object's manifest is read and checked; its stream verifies each chunk as it
   * goes. `start`/`end` (inclusive) select a byte range: only the chunks it touches are read.
   */
  get(
    ref: string,
    opts: { signal?: AbortSignal; start?: number; end?: number },
  ): Promise<{ cid: string; size: number; stream: Readable }>
  /** The object's record; `names` are those it was stored under here (the first names a download). */
  stat(cid: string): Promise<{ names: string[] }>
  list(): Promise<object[]>
  resolveName(name: string): Promise<string | undefined>
  /** A cid, a name stored here or the start of a known cid, to its cid (ERR_NOT_FOUND, ERR_AMBIGUOUS). */
  resolveRef(ref: string): Promise<string>
  delete(cid: string): Promise<{ local: boolean; peers: number }>
  /** Drops only the local plaintext; replicas stay, so a later get fetches it back. */
  evictLocal(cid: string): Promise<boolean>
  share(cid: string): string
  peers(): object[]
  connect(addr: string): Promise<object>
  status(): Promise<object>
  verify(): Promise<object>
  /** Renames an object (a name moves; a cid's names give way); `{ cid, names }`. */
  rename(ref: string, to: string): Promise<object>
  /** Gathers the owner's catalogue from the peers' heads and merges what is new (`cas restore`). */
  syncCatalogue(): Promise<object>
  /** Records a snapshot of a folder whose files are already put (`cas put -r`). */
  putSnapshot(root: string, entries: SnapshotEntry[]): Promise<object>
  snapshots(): object[]
  /** One snapshot, by id or the start of one, with its entries (`cas get -r`). */
  snapshot(ref: string): Promise<object>
  /** Runs one repair pass now and resolves with its result. */
  repair(): Promise<object>
}
