import { createHash, createPrivateKey } from 'node:crypto'
import { chmod, copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDecryptStream,
  deriveOwnerSecrets,
  fileKeys,
  loadOwnerKey,
  locatorOf,
  ownerKeyFromPem,
  ownerKeyFromPrivateKey,
  unseal,
} from '../src/index.js'
import { sealWithIv } from '../src/seal.js'
import { throughTransform } from './helpers/streams.js'

// Computed with the openssl command line alone by test/fixtures/kat-openssl.sh, not by this
// package: if these fail, the sealed format or the key derivation changed.
const FILE_KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
const MAC_KEY = '202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f'
const IV = 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'

interface Vector {
  name: string
  plaintext: string
  chunkSize: number
  header: string
  chunks: { ciphertext: string; tag: string }[]
}

const VECTORS: Vector[] = [
  {
    name: '44 bytes in 16-byte chunks',
    plaintext: 'The quick brown fox jumps over the lazy dog.',
    chunkSize: 16,
    header: '434153310100000010f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
    chunks: [
      {
        ciphertext: 'c668a8ad52e3e9a8314984262f450d34',
        tag: '2609e3930410fec6f04bc5a3ce0bc134626c69e1f8cc4e2d009262032f7ffeae',
      },
      {
        ciphertext: 'ac3003609b5f59b11d873a572f05a6fa',
        tag: '6cc7addca480ba83182138127534864277de5ec1c9a9cb71636a7a65147289d2',
      },
      {
        ciphertext: 'f109013775628cb81cea473e',
        tag: 'b0a5dae310fd7d64e519ecdb59ed4943e7f0a053b361d853154afaf725fe25dc',
      },
    ],
  },
  {
    name: '32 bytes in 16-byte chunks, ending with an empty final chunk',
    plaintext: 'exactly thirty-two bytes long!!!',
    chunkSize: 16,
    header: '434153310100000010f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
    chunks: [
      {
        ciphertext: 'f778acee57faf9eb2e018f26344b4e60',
        tag: '195def67e749032d7ff42b1d611e3108b589af1638dc33b4beb2431f23bf087a',
      },
      {
        ciphertext: 'bd305b22885e51b24ecb3a4f2d56a7af',
        tag: 'dc0bf29f6676ad6bf3088a1de1ca030788cb8fcb6950cb0e2f32c4fb31388aff',
      },
      { ciphertext: '', tag: 'a77222352ec2c0207170818ac53f8f7caee09faa40a92da021ab3b520b9a1887' },
    ],
  },
  {
    name: 'the empty plaintext in 64 KiB chunks',
    plaintext: '',
    chunkSize: 65536,
    header: '434153310100010000f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
    chunks: [{ ciphertext: '', tag: '7c01fc48cae61d188224b95cd1c7be5c5309eeba0634c4617934345eef15391c' }],
  },
]

const keys = { fileKey: Buffer.from(FILE_KEY, 'hex'), macKey: Buffer.from(MAC_KEY, 'hex') }

describe('known-answer vectors', () => {
  for (const v of VECTORS) {
    it(`seals ${v.name} to exactly the expected header, ciphertext and tags`, () => {
      const sealed = Buffer.from(
        sealWithIv(Buffer.from(v.plaintext), { ...keys, chunkSize: v.chunkSize }, Buffer.from(IV, 'hex')),
      )
      const expected = v.header + v.chunks.map((c) => c.ciphertext + c.tag).join('')
      expect(sealed.toString('hex')).toBe(expected)
    })

    it(`opens ${v.name} back to its plaintext`, () => {
      const sealed = Buffer.from(v.header + v.chunks.map((c) => c.ciphertext + c.tag).join(''), 'hex')
      expect(Buffer.from(unseal(sealed, keys)).toString()).toBe(v.plaintext)
    })
  }

  it('derives the expected owner id, secrets, file keys and locator from a fixed seed', () => {
    const seed = Buffer.from(FILE_KEY, 'hex')
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed])
    const key = ownerKeyFromPrivateKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }))
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
    expect(key.ownerId).toBe('a050837d85070582ccf7394b0988847cc312cb88259b894899f6f239cf1791a5')
    const secrets = deriveOwnerSecrets(key)
    expect(hex(secrets.encKey)).toBe('de95a264ba4608b3547a658dc80ff9ddbb43b600a2ed1bf7c85a5eed6cff7563')
    expect(hex(secrets.macKey)).toBe('126019ce9e121516548c231a9706b5dafc69e92d63d717c30dae8a3a8d438908')
    expect(hex(secrets.locKey)).toBe('9792d68df501e15f6fb14a5bfb3d67d25cbd468e686fd6b43c65638eb472adce')
    const cid = createHash('sha256').update('hello').digest('hex')
    const { fileKey, fileMacKey } = fileKeys(secrets, cid)
    expect(hex(fileKey)).toBe('74b3adfefef3786bc3d3362fbf42d100283cb3ed4d688bf0dc0dec4eb7edb27e')
    expect(hex(fileMacKey)).toBe('fabd770975f04f86417a8c59af7503b9fab3a4512f956332bd0a514a5e4ddece')
    expect(locatorOf(secrets, cid)).toBe('c6537eb59130f557f786d12fb260ee8a004edefb8a23df1f04879e82b4499b44')
  })
})

describe('files written by an earlier build (test/fixtures/v1)', () => {
  const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'v1')
  let manifest: { ownerId: string; passphrase: string; cid: string; size: number; locator: string }
  let dir: string
  beforeAll(async () => {
    manifest = JSON.parse(await readFile(join(fixtures, 'manifest.json'), 'utf8'))
    dir = await mkdtemp(join(tmpdir(), 'cas-crypto-v1-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('loads the passphrase-sealed owner key (git does not keep mode 0600, so from a private copy)', async () => {
    const path = join(dir, 'owner-key.sealed.pem')
    await copyFile(join(fixtures, 'owner-key.sealed.pem'), path)
    await chmod(path, 0o600)
    const key = await loadOwnerKey(path, { passphrase: manifest.passphrase })
    expect(key.ownerId).toBe(manifest.ownerId)
  })

  it('decrypts the sealed object with keys derived from the owner key, to plaintext matching its cid', async () => {
    const key = ownerKeyFromPem(await readFile(join(fixtures, 'owner-key.pem'), 'utf8'))
    expect(key.ownerId).toBe(manifest.ownerId)
    const secrets = deriveOwnerSecrets(key)
    expect(locatorOf(secrets, manifest.cid)).toBe(manifest.locator)
    const { fileKey, fileMacKey } = fileKeys(secrets, manifest.cid)
    const sealed = await readFile(join(fixtures, 'object.sealed'))
    const plain = await throughTransform(createDecryptStream({ fileKey, macKey: fileMacKey }), sealed, [1000])
    expect(plain.length).toBe(manifest.size)
    expect(createHash('sha256').update(plain).digest('hex')).toBe(manifest.cid)
  })
})
