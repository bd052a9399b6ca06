import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateOwnerKey } from '@cas/crypto'
import { Store } from '@cas/store'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { signCommit } from '../src/index.js'
import { readChunks, readReplicaHead, replicaTrailer } from '../src/object/replica-file.js'

const owner = generateOwnerKey()
const KiB = 1024

let dir: string
let store: Store

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cas-replica-file-'))
  store = new Store({ root: dir, packBelow: 64 * KiB })
})

afterEach(async () => {
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

/** Writes a replica of chunks of the given sizes under a new locator; returns it and its chunks. */
async function writeReplica(sizes: number[]): Promise<{ locator: string; chunks: Buffer[] }> {
  const chunks = sizes.map((n) => randomBytes(n))
  const locator = randomBytes(32).toString('hex')
  const signed = signCommit(owner, {
    ownerId: owner.ownerId,
    locator,
    issuedAt: Date.now(),
    chunks: chunks.map((c) => ({ length: c.byteLength, hash: createHash('sha256').update(c).digest() })),
    keyBox: randomBytes(60),
    manifestBox: randomBytes(80),
  })
  await store.write(locator, Buffer.concat([...chunks, replicaTrailer(signed)]), {
    namespace: owner.ownerId,
  })
  return { locator, chunks }
}

async function chunksOf(locator: string, head: Awaited<ReturnType<typeof readReplicaHead>>) {
  const out: Buffer[] = []
  const last = head.signed.commit.chunks.length - 1
  for await (const { ciphertext } of readChunks(store, owner.ownerId, locator, head, 0, last))
    out.push(ciphertext)
  return out
}

describe('replica files', () => {
  it('reads a small replica in one read, head and chunks', async () => {
    const { locator, chunks } = await writeReplica([10 * KiB, 7 * KiB, 3])
    const reads = vi.spyOn(store, 'read')
    const head = await readReplicaHead(store, owner.ownerId, locator)
    expect(head.signed.commit.locator).toBe(locator)
    expect(head.offsets).toEqual([0, 10 * KiB, 17 * KiB, 17 * KiB + 3])
    expect(await chunksOf(locator, head)).toEqual(chunks)
    expect(reads).toHaveBeenCalledTimes(1)
  })

  it('reads a large replica by parts: the footer, the commit, then the chunks asked for', async () => {
    const { locator, chunks } = await writeReplica([200 * KiB, 200 * KiB])
    const reads = vi.spyOn(store, 'read')
    const head = await readReplicaHead(store, owner.ownerId, locator)
    expect(head.whole).toBeUndefined()
    expect(reads).toHaveBeenCalledTimes(2)
    expect(await chunksOf(locator, head)).toEqual(chunks)
    expect(reads).toHaveBeenCalledTimes(3)
  })

  it('refuses a small replica whose footer or commit was damaged', async () => {
    const { locator, chunks } = await writeReplica([5 * KiB])
    const parts: Buffer[] = []
    for await (const piece of store.read(locator, { namespace: owner.ownerId })) parts.push(piece as Buffer)
    const good = Buffer.concat(parts)
    expect(good.subarray(0, 5 * KiB)).toEqual(chunks[0])

    const noMagic = Buffer.from(good)
    noMagic.writeUInt8(noMagic.readUInt8(noMagic.byteLength - 1) ^ 0xff, noMagic.byteLength - 1)
    await store.write(locator, noMagic, { namespace: owner.ownerId })
    await expect(readReplicaHead(store, owner.ownerId, locator)).rejects.toMatchObject({
      code: 'ERR_CORRUPT_OBJECT',
    })

    // A flipped byte inside the signed commit: its signature no longer checks out.
    const badCommit = Buffer.from(good)
    badCommit.writeUInt8(badCommit.readUInt8(5 * KiB + 10) ^ 0x01, 5 * KiB + 10)
    await store.write(locator, badCommit, { namespace: owner.ownerId })
    await expect(readReplicaHead(store, owner.ownerId, locator)).rejects.toMatchObject({
      code: 'ERR_CORRUPT_OBJECT',
    })
  })
})
