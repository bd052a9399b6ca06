import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateOwnerKey } from '@cas/crypto'
import { createNodeIdentity, TcpTransport } from '@cas/p2p'
import { afterEach, describe, expect, it } from 'vitest'
import { FileServer, MAX_NAME_BYTES, nameProblem } from '../src/index.js'

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
    afterEach(async () => {
      await server?.stop()
      if (dir) await rm(dir, { recursive: true, force: true })
      server = undefined
      dir = undefined
    })

    it('refuses a put with an invalid name before storing anything, and finds nothing by it', async () => {
      dir = await mkdtemp(join(tmpdir(), 'cas-names-'))
      const identity = await createNodeIdentity()
      server = new FileServer({
        dataDir: dir,
        ownerKey: generateOwnerKey(),
        identity,
        transport: new TcpTransport({ identity }),
      })
      await server.start()
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
  })
})
