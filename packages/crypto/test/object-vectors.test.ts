import { createPrivateKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  chunkIv,
  cryptChunk,
  decodeManifest,
  deriveOwnerSecrets,
  generateOwnerKey,
  KEY_BOX_BYTES,
  locatorOf,
  ObjectOpener,
  ObjectSealer,
  objectSubkeys,
  openObjectKey,
  ownerKeyFromPrivateKey,
  type SealedChunk,
  sealObjectKey,
} from '../src/index.js'

// Computed independently of this package by test/fixtures/kat-openssl-v2.sh (HKDF, AES-256-CTR,
// SHA-256 and HMAC with the openssl command line; AES-256-GCM from openssl's AES blocks and a
// GHASH checked there against published GCM vectors). If these fail, format 2 changed.
const OBJECT_KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
const CHUNK_KEY = '5bd7ad6145963bffa20190e7f4e11f2cf25c4225124690c0e5a1bbe212f99db8'
const MANIFEST_KEY = '85415797b5d3b18fb300c3659f02e619260a4b75030a2855887dc3716b0ed47e'

interface Vector {
  name: string
  plaintext: string
  chunks: { ciphertext: string; hash: string }[]
  manifest: string
  cid: string
  manifestBox: string
}

const VECTORS: Vector[] = [
  {
    name: '44 bytes in 16-byte chunks',
    plaintext: 'The quick brown fox jumps over the lazy dog.',
    chunks: [
      {
        ciphertext: '40eeb49d70117954af845b42f12c52dd',
        hash: 'f5cad66bb07fc1909e9a5221ff13870510dd718fba4f27e3608b7c3ecd0fc2be',
      },
      {
        ciphertext: 'c2a459374d5f1b0618e424a37ea2fd55',
        hash: '56b3c9706301b3015ea4049d51e707567cc41cb77892b3a7cacb06c10e89c407',
      },
      {
        ciphertext: '6133e0a2c7559631cf8b0544',
        hash: '54927598bbb5bc303dad3f5b95b9cf13c58922663bba83a37eea37310b342b46',
      },
    ],
    manifest:
      '4341534d0200000003' +
      '00000010' +
      '1b0b70a113cd4065b095bae73fba840f3b93912e89dd535f7f795912e9b307d6' +
      '00000010' +
      '6ee91481352180874716c1d23df67cb7835c5f00f53f16de1d37ed7ff1db9498' +
      '0000000c' +
      '8c080cf9780a1ae750e8370d2276dc34cfc786640bd4685a77c619cf16886036',
    cid: 'cb6edf09af18a2a0efc41b6917110a8bceecde852492334144e1b2cac3e8c6ef',
    manifestBox:
      'ddedaadb17d2e97164a20464e71ccfa3bbd18832881c6adad926978e758b9d72d5559ce3790e057a8fd9f1b88c008e5f' +
      '6b76450ee707347f4326c615283eaef83278db6e7091d14949e10f9ea59de0fc8ae1023fb96b4298e37b91f44653460e' +
      '98be78a82b374f058cbc68496fc34c1c5f8ad94db410571494b288afdccd1177178d9403ef',
  },
  {
    name: '32 bytes in 16-byte chunks (an exact multiple: no short or empty last chunk)',
    plaintext: 'exactly thirty-two bytes long!!!',
    chunks: [
      {
        ciphertext: '71feb0de75086917b0cc5042ea221189',
        hash: 'a5e80aab2eb3d7c5153e7d7e977d585502ee697d9ec18d299fdae62f2d528802',
      },
      {
        ciphertext: 'd3a401755e5e13054ba824bb7cf1fc00',
        hash: 'ec1db877d168808abf8ce23137112128583c507007fc09ee883bdd57d8bf58ee',
      },
    ],
    manifest:
      '4341534d0200000002' +
      '00000010' +
      '1866963168c07e3e9acfd17601beb9227bdd711599306c728149b980e746278c' +
      '00000010' +
      'f782bf916d14b17cae4a4459d4cb05e73e29d01697b1df146b553a62444f0e78',
    cid: '3c108f4fb19bf6816142bba6516c2b63b7aabcddde1ee30b4f1dca2dbe8ff422',
    manifestBox:
      'ddedaadb17d2e97165a20464e71fa2452baa850cd33630b1481893b358cbd392ee4571dc54f0359a1dd70498d6008e5f' +
      '6bef2ea5f75f014eb8cf9a90a3d7938162c5aee166f35f8083976d49b82874666ad90be787fd8f996967d8243106100a92',
  },
  {
    name: 'the empty plaintext (no chunks)',
    plaintext: '',
    chunks: [],
    manifest: '4341534d0200000000',
    cid: 'b5f801b2d36a16e7c18aa321d064b82771d3cf8ef8017a3ddfbf9b8bc8bf5d59',
    manifestBox: 'ddedaadb17d2e9716766cd651090994d9adee0101bd213df5a',
  },
]

/** Chunk 2^32 + 5: the index fills the high half of the counter block too. */
const HIGH_INDEX = {
  index: 2 ** 32 + 5,
  iv: '00000001000000050000000000000000',
  plaintext: 'The quick brown ',
  ciphertext: 'e0bf9e18b6ca469a663645669c37d3e7',
}

/** The owner key from the seed 000102..1f (as in test/vectors.test.ts), and its box of OBJECT_KEY for vector 1. */
const KEY_BOX = {
  locator: 'd1be708eb3060bb2b3fd11224017a3a5aef6ca3dbeb0afbeb8f8745e4be3fb51',
  box:
    'a0a1a2a3a4a5a6a7a8a9aaab' +
    '2dc36065912f73b211441b235e1d1088cacf311b46d6c3d33ba83f3918c6f41c' +
    '4777f566caf350de300ba5d10c0e704e',
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const objectKey = Buffer.from(OBJECT_KEY, 'hex')

function seal(plaintext: Buffer, pieceSize: number) {
  const sealer = new ObjectSealer({ objectKey, chunkSize: 16 })
  const chunks: SealedChunk[] = []
  for (let at = 0; at < plaintext.byteLength; at += pieceSize) {
    chunks.push(...sealer.update(plaintext.subarray(at, at + pieceSize)))
  }
  const { last, object } = sealer.final()
  if (last) chunks.push(last)
  return { chunks, object }
}

function ownerSecrets() {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), objectKey])
  return deriveOwnerSecrets(
    ownerKeyFromPrivateKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })),
  )
}

describe('format 2 known-answer vectors', () => {
  it('derives the expected chunk and manifest keys from the object key', () => {
    const { chunkKey, manifestKey } = objectSubkeys(objectKey)
    expect(hex(chunkKey)).toBe(CHUNK_KEY)
    expect(hex(manifestKey)).toBe(MANIFEST_KEY)
  })

  for (const v of VECTORS) {
    const plaintext = Buffer.from(v.plaintext)

    // whole, byte by byte, and in pieces that straddle chunk boundaries: the bytes out are the same
    for (const pieceSize of [Math.max(plaintext.byteLength, 1), 1, 7]) {
      it(`seals ${v.name}, fed ${pieceSize} bytes at a time, to exactly the expected chunks and manifest`, () => {
        const { chunks, object } = seal(plaintext, pieceSize)
        expect(chunks.map((c) => c.index)).toEqual(v.chunks.map((_, i) => i))
        expect(chunks.map((c) => ({ ciphertext: hex(c.ciphertext), hash: hex(c.hash) }))).toEqual(v.chunks)
        expect(object.chunks.map((c) => ({ length: c.length, hash: hex(c.hash) }))).toEqual(
          v.chunks.map((c) => ({ length: c.ciphertext.length / 2, hash: c.hash })),
        )
        expect(hex(object.manifest)).toBe(v.manifest)
        expect(object.cid).toBe(v.cid)
        expect(hex(object.manifestBox)).toBe(v.manifestBox)
        expect(object.size).toBe(plaintext.byteLength)
        expect(hex(object.objectKey)).toBe(OBJECT_KEY)
      })
    }

    it(`opens ${v.name} chunk by chunk, last first, back to its plaintext`, () => {
      const opener = new ObjectOpener(objectKey, Buffer.from(v.manifestBox, 'hex'), v.cid)
      expect(opener.size).toBe(plaintext.byteLength)
      expect(opener.chunkCount).toBe(v.chunks.length)
      expect(hex(Buffer.concat(opener.manifest.chunks.map((c) => c.hash)))).toBe(
        hex(Buffer.concat(decodeManifest(Buffer.from(v.manifest, 'hex')).chunks.map((c) => c.hash))),
      )
      const plain: Buffer[] = []
      for (let i = v.chunks.length - 1; i >= 0; i--) {
        plain[i] = opener.open(i, Buffer.from(v.chunks[i]!.ciphertext, 'hex'))
      }
      expect(Buffer.concat(plain).toString()).toBe(v.plaintext)
    })
  }

  it('refuses vector 1 under another cid and its chunks at other indices', () => {
    const [v1, v2] = VECTORS
    const box = Buffer.from(v1!.manifestBox, 'hex')
    expect(() => new ObjectOpener(objectKey, box, v2!.cid)).toThrow(
      expect.objectContaining({ reason: 'manifest' }),
    )
    const opener = new ObjectOpener(objectKey, box, v1!.cid)
    expect(() => opener.open(1, Buffer.from(v1!.chunks[0]!.ciphertext, 'hex'))).toThrow(
      expect.objectContaining({ reason: 'chunk' }),
    )
  })

  it('puts a chunk index above 2^32 in the high half of the counter block', () => {
    expect(hex(chunkIv(HIGH_INDEX.index))).toBe(HIGH_INDEX.iv)
    const chunkKey = Buffer.from(CHUNK_KEY, 'hex')
    expect(hex(cryptChunk(chunkKey, HIGH_INDEX.index, Buffer.from(HIGH_INDEX.plaintext)))).toBe(
      HIGH_INDEX.ciphertext,
    )
  })

  it('opens the key box computed with a fixed IV, for its locator only', () => {
    const secrets = ownerSecrets()
    expect(locatorOf(secrets, VECTORS[0]!.cid)).toBe(KEY_BOX.locator)
    const box = Buffer.from(KEY_BOX.box, 'hex')
    expect(box.byteLength).toBe(KEY_BOX_BYTES)
    expect(hex(openObjectKey(secrets, box, KEY_BOX.locator))).toBe(OBJECT_KEY)
    expect(() => openObjectKey(secrets, box, locatorOf(secrets, VECTORS[1]!.cid))).toThrow(
      expect.objectContaining({ code: 'ERR_INTEGRITY', reason: 'key' }),
    )
    const flipped = Buffer.from(box)
    flipped[0] = (flipped[0] as number) ^ 1 // the IV
    expect(() => openObjectKey(secrets, flipped, KEY_BOX.locator)).toThrow(
      expect.objectContaining({ reason: 'key' }),
    )
  })

  it('seals the object key with a fresh IV into a box that opens for its locator and owner only', () => {
    const secrets = ownerSecrets()
    const locator = KEY_BOX.locator
    const a = sealObjectKey(secrets, objectKey, locator)
    const b = sealObjectKey(secrets, objectKey, locator)
    expect(a.byteLength).toBe(KEY_BOX_BYTES)
    expect(hex(a)).not.toBe(hex(b))
    expect(hex(openObjectKey(secrets, a, locator))).toBe(OBJECT_KEY)
    expect(hex(openObjectKey(secrets, b, locator))).toBe(OBJECT_KEY)
    expect(() => openObjectKey(secrets, a, locatorOf(secrets, VECTORS[1]!.cid))).toThrow(
      expect.objectContaining({ reason: 'key' }),
    )
    const stranger = deriveOwnerSecrets(generateOwnerKey())
    expect(() => openObjectKey(stranger, a, locator)).toThrow(expect.objectContaining({ reason: 'key' }))
  })
})
