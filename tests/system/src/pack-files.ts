import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * A node's packs as bytes on disk (packages/store README, "Packs for small objects"):
 * `<home>/store/.packs/pack-NNNNNN.dat`, each a run of records
 * `"CASP" u32be | type u8 (1 put, 2 remove) | namespace length u8 | key length u16be |
 * data length u32be | time f64be | check[4] | namespace | key | data`, the check being the first
 * 4 bytes of the SHA-256 of the header's first 20 bytes and the body. Parsed here on purpose, from
 * the documented format, so that the suite checks what is on disk rather than what the store says.
 */

const MAGIC = 'CASP'
const HEADER_BYTES = 24
const PACK_NAME = /^pack-\d{6}\.dat$/

export interface PackContents {
  /** namespace → key → the data of its last put record (a remove record takes it out). */
  objects: Map<string, Map<string, Buffer>>
  /** namespace → keys whose last record is a remove. */
  removed: Map<string, Set<string>>
  /** Records read, puts and removes. */
  records: number
  /** Bytes after the last whole record of each pack that has any: a torn or damaged tail. */
  unclean: { pack: string; bytes: number }[]
}

/** Reads every record of every pack of a node's store. */
export async function readPacks(home: string): Promise<PackContents> {
  const dir = join(home, 'store', '.packs')
  const out: PackContents = { objects: new Map(), removed: new Map(), records: 0, unclean: [] }
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => PACK_NAME.test(n)).sort()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out
    throw err
  }
  for (const name of names) {
    const bytes = await readFile(join(dir, name))
    let at = 0
    while (at + HEADER_BYTES <= bytes.length) {
      const head = bytes.subarray(at, at + HEADER_BYTES)
      if (head.toString('latin1', 0, 4) !== MAGIC) break
      const type = head.readUInt8(4)
      const nsLength = head.readUInt8(5)
      const keyLength = head.readUInt16BE(6)
      const dataLength = head.readUInt32BE(8)
      const end = at + HEADER_BYTES + nsLength + keyLength + dataLength
      if ((type !== 1 && type !== 2) || end > bytes.length) break
      const body = bytes.subarray(at + HEADER_BYTES, end)
      const check = createHash('sha256').update(head.subarray(0, 20)).update(body).digest().subarray(0, 4)
      if (!check.equals(head.subarray(20, 24))) break
      const namespace = body.toString('utf8', 0, nsLength)
      const key = body.toString('utf8', nsLength, nsLength + keyLength)
      const keys = out.objects.get(namespace) ?? new Map<string, Buffer>()
      out.objects.set(namespace, keys)
      const removed = out.removed.get(namespace) ?? new Set<string>()
      out.removed.set(namespace, removed)
      if (type === 1) {
        keys.set(key, Buffer.from(body.subarray(nsLength + keyLength)))
        removed.delete(key)
      } else {
        keys.delete(key)
        removed.add(key)
      }
      out.records++
      at = end
    }
    if (at < bytes.length) out.unclean.push({ pack: name, bytes: bytes.length - at })
  }
  return out
}
