import { join } from 'node:path'
import { deriveOwnerSecrets, locatorOf, ObjectSealer, type OwnerKey, sealObjectKey } from '@cas/crypto'
import { casPathTransform } from '@cas/store'
import { RECORD_CHUNK, RECORD_COMMIT, recordHead, type SignedCommit, signCommit } from '../../src/index.js'

/** A replica as its owner's put would make it: sealed chunks and the signed commit. */
export interface TestReplica {
  cid: string
  locator: string
  chunks: Buffer[]
  signed: SignedCommit
}

export function makeReplica(
  ownerKey: OwnerKey,
  data: Uint8Array,
  /** `locator`: another than the cid's, as only a hostile owner would sign. */
  opts: { chunkSize?: number; issuedAt?: number; locator?: string } = {},
): TestReplica {
  const secrets = deriveOwnerSecrets(ownerKey)
  const sealer = new ObjectSealer(opts.chunkSize === undefined ? {} : { chunkSize: opts.chunkSize })
  const chunks = sealer.update(data).map((c) => c.ciphertext)
  const { last, object } = sealer.final()
  if (last) chunks.push(last.ciphertext)
  const locator = opts.locator ?? locatorOf(secrets, object.cid)
  const signed = signCommit(ownerKey, {
    ownerId: ownerKey.ownerId,
    locator,
    issuedAt: opts.issuedAt ?? Date.now(),
    chunks: object.chunks,
    keyBox: sealObjectKey(secrets, object.objectKey, locator),
    manifestBox: object.manifestBox,
  })
  return { cid: object.cid, locator, chunks, signed }
}

/** The data of a `store` request: one record per chunk, then the commit record. */
export function storeRecords(chunks: readonly Uint8Array[], commit: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const c of chunks) out.push(recordHead(RECORD_CHUNK, c.byteLength), c)
  out.push(recordHead(RECORD_COMMIT, commit.byteLength), commit)
  return out
}

/** The same chunks with one bit flipped in chunk `index`: other bytes of the same size. */
export function tampered(chunks: readonly Buffer[], index = 0): Buffer[] {
  return chunks.map((c, i) => {
    if (i !== index) return c
    const copy = Buffer.from(c)
    copy[Math.floor(copy.byteLength / 2)]! ^= 1
    return copy
  })
}

export async function* iterate(items: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* items
}

/** Where `holder` keeps its replica of `owner`'s object `cid` (its store's file for the locator). */
export function heldReplicaPath(
  holder: { dataDir: string },
  owner: { ownerKey: OwnerKey },
  cid: string,
): string {
  const locator = locatorOf(deriveOwnerSecrets(owner.ownerKey), cid)
  return join(holder.dataDir, 'store', owner.ownerKey.ownerId, casPathTransform(locator))
}
