import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateOwnerKey } from '@cas/crypto'
import { createNodeIdentity, TcpTransport } from '@cas/p2p'
import { afterEach, describe, expect, it } from 'vitest'
import { Catalogue } from '../src/catalogue.js'
import { AmbiguousRefError, FileServer, MAX_NAME_BYTES, MIN_CID_PREFIX, nameProblem } from '../src/index.js'

describe('object names', () => {
  it('takes names up to MAX_NAME_BYTES of UTF-8, without control characters', () => {
    expect(nameProblem('photo.jpg')).toBeUndefined()
    expect(nameProblem('../../etc/passwd')).toBeUndefined() // a label, never a path
    expect(nameProblem('a'.repeat(MAX_NAME_BYTES))).toBeUndefined()
    expect(nameProblem('a'.repeat(MAX_NAME_BYTES + 1))).toMatch(/bytes/)
    // 1,000 characters but 3,000 bytes: over the limit (LMDB keys stop at 1,978 bytes).
    expect(nameProblem('€'.repeat(1_000))).toMatch(/bytes/)
    expect(nameProblem('')).toMatch(/empty/)
    expect(nameProblem('a\u0000b')).toMatch(/control/)
    expect(nameProblem('\u001b[2J')).toMatch(/control/)
  })

  describe('through a FileServer', () => {
    let server: FileServer | undefined
    let dir: string | undefined
    /** A lone FileServer in a new temp folder (removed after the test). */
    async function startServer(prefix: string): Promise<FileServer> {
      dir = await mkdtemp(join(tmpdir(), prefix))
      const identity = await createNodeIdentity()
      const s = new FileServer({
        dataDir: dir,
        ownerKey: generateOwnerKey(),
        identity,
        transport: new TcpTransport({ identity }),
      })
      await s.start()
      return s
    }

    afterEach(async () => {
      await server?.stop()
      if (dir) await rm(dir, { recursive: true, force: true })
      server = undefined
      dir = undefined
    })

    it('refuses a put with an invalid name before storing anything, and finds nothing by it', async () => {
      server = await startServer('cas-names-')
      const long = '€'.repeat(1_000)
      await expect(server.put(Buffer.from('x'), { name: long })).rejects.toMatchObject({
        code: 'ERR_INVALID_NAME',
      })
      await expect(server.put(Buffer.from('x'), { name: 'a\u0000b' })).rejects.toMatchObject({
        code: 'ERR_INVALID_NAME',
      })
      expect(await server.list()).toEqual([])
      expect(await server.resolveName(long)).toBeUndefined()
      expect(await server.resolveName('x'.repeat(10_000))).toBeUndefined()
    })

    it('resolves a ref by cid, name or cid prefix, and lists the candidates of an ambiguous one', async () => {
      server = await startServer('cas-refs-')
      const photo = await server.put(Buffer.from('photo bytes'), { name: 'photo.jpg' })
      const other = await server.put(Buffer.from('other bytes'))
      expect(await server.resolveRef(photo.cid)).toBe(photo.cid)
      expect(await server.resolveRef('photo.jpg')).toBe(photo.cid)
      expect(await server.resolveRef(photo.cid.slice(0, 8))).toBe(photo.cid)
      expect(await server.resolveRef(other.cid.slice(0, MIN_CID_PREFIX))).toBe(other.cid)
      // A whole cid passes through even when unknown here (a get or delete may find it on peers).
      const unknown = 'f'.repeat(64)
      expect(await server.resolveRef(unknown)).toBe(unknown)
      for (const ref of [photo.cid.slice(0, MIN_CID_PREFIX - 1), 'nothing.txt', photo.cid.toUpperCase()]) {
        await expect(server.resolveRef(ref)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
      }
      // A name that is also the start of another object's cid fits two objects: both are listed.
      const clash = other.cid.slice(0, 6)
      const named = await server.put(Buffer.from('named like a cid'), { name: clash })
      const err = await server.resolveRef(clash).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(AmbiguousRefError)
      expect((err as AmbiguousRefError).code).toBe('ERR_AMBIGUOUS')
      expect((err as AmbiguousRefError).candidates.map((c) => c.cid).sort()).toEqual(
        [named.cid, other.cid].sort(),
      )
      expect((err as Error).message).toContain(`${named.cid} (${clash})`)
    })
  })
})

describe('cid prefixes in the catalogue', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('finds every cid with a prefix, in order, up to the limit, and nothing past it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cas-prefix-'))
    const catalogue = await Catalogue.open(dir)
    try {
      const cids = ['abcd', 'abcd', 'abce', 'abcf', 'abc0'].map(
        (p, i) => `${p}${String(i).repeat(64 - p.length)}`,
      )
      for (const cid of cids) {
        await catalogue.putObject({
          cid,
          size: 1,
          names: [],
          created: 0,
          replication: 1,
          holders: [],
          shared: false,
        })
      }
      expect(catalogue.cidsWithPrefix('abcd', 10)).toEqual([cids[0], cids[1]])
      expect(catalogue.cidsWithPrefix('abc', 10)).toEqual([cids[4], cids[0], cids[1], cids[2], cids[3]])
      expect(catalogue.cidsWithPrefix('abc', 2)).toHaveLength(2)
      expect(catalogue.cidsWithPrefix('abcde', 10)).toEqual([])
      expect(catalogue.cidsWithPrefix(cids[2] as string, 10)).toEqual([cids[2]])
    } finally {
      await catalogue.close()
    }
  })
})
