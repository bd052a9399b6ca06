import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateOwnerKey, sign, verify } from '../src/index.js'

describe('signatures', () => {
  const key = generateOwnerKey()
  const data = Buffer.from('delete ownerId/locator at 2026-11-24T18:00:00Z')

  it('verifies a signature made by the owner key', () => {
    const signature = sign(key, data)
    expect(signature.length).toBe(64)
    expect(verify(key.publicKeyDer, data, signature)).toBe(true)
  })

  it('rejects a signature over other data, by another key, or with a flipped bit', () => {
    const signature = sign(key, data)
    expect(verify(key.publicKeyDer, Buffer.from('other'), signature)).toBe(false)
    expect(verify(generateOwnerKey().publicKeyDer, data, signature)).toBe(false)
    const flipped = Buffer.from(signature)
    flipped[10]! ^= 1
    expect(verify(key.publicKeyDer, data, flipped)).toBe(false)
  })

  it('answers false, without throwing, for a malformed key, a non-Ed25519 key or a short signature', () => {
    const signature = sign(key, data)
    expect(verify(Buffer.from('not a key'), data, signature)).toBe(false)
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      format: 'der',
      type: 'spki',
    })
    expect(verify(ec, data, signature)).toBe(false)
    expect(verify(key.publicKeyDer, data, signature.subarray(0, 63))).toBe(false)
  })
})
