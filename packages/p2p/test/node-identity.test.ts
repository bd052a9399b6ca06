import { X509Certificate } from 'node:crypto'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { certificateSpki, createNodeIdentity, loadOrCreateNodeIdentity, nodeIdOf } from '../src/index.js'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cas-p2p-id-'))
  dirs.push(d)
  return d
}

describe('node identity', () => {
  it('makes a self-signed Ed25519 certificate whose SPKI hash is the nodeId', async () => {
    const id = await createNodeIdentity()
    const cert = new X509Certificate(id.certPem)
    expect(cert.publicKey.asymmetricKeyType).toBe('ed25519')
    expect(cert.verify(cert.publicKey)).toBe(true)
    expect(id.nodeId).toMatch(/^[0-9a-f]{64}$/)
    expect(nodeIdOf(certificateSpki(id.certPem))).toBe(id.nodeId)
  })

  it('creates node.crt and node.key (mode 0600) once and loads the same identity after', async () => {
    const dir = await tempDir()
    const first = await loadOrCreateNodeIdentity(dir)
    expect((await stat(join(dir, 'node.key'))).mode & 0o777).toBe(0o600)
    const again = await loadOrCreateNodeIdentity(dir)
    expect(again).toEqual(first)
  })

  it('refuses a folder holding a key that does not belong to the certificate', async () => {
    const dir = await tempDir()
    await loadOrCreateNodeIdentity(dir)
    const other = await createNodeIdentity()
    await writeFile(join(dir, 'node.key'), other.keyPem)
    await expect(loadOrCreateNodeIdentity(dir)).rejects.toMatchObject({ code: 'ERR_IDENTITY' })
  })

  it('refuses a folder holding only the certificate', async () => {
    const dir = await tempDir()
    const id = await createNodeIdentity()
    await writeFile(join(dir, 'node.crt'), id.certPem)
    await expect(loadOrCreateNodeIdentity(dir)).rejects.toMatchObject({ code: 'ERR_IDENTITY' })
  })
})
