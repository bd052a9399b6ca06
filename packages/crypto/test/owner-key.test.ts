import { createHash, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  generateOwnerKey,
  KeyFileError,
  ownerIdOf,
  ownerKeyFromPem,
  ownerKeyFromPrivateKey,
  ownerKeyToPem,
} from '../src/index.js'

describe('owner keys', () => {
  it('generates an Ed25519 key whose ownerId is the SHA-256 of its SPKI DER', () => {
    const key = generateOwnerKey()
    expect(key.privateKey.asymmetricKeyType).toBe('ed25519')
    const der = key.publicKey.export({ format: 'der', type: 'spki' })
    expect(Buffer.from(key.publicKeyDer).equals(der)).toBe(true)
    expect(key.ownerId).toBe(createHash('sha256').update(der).digest('hex'))
    expect(ownerIdOf(key.publicKeyDer)).toBe(key.ownerId)
  })

  it('generates a different key every time', () => {
    expect(generateOwnerKey().ownerId).not.toBe(generateOwnerKey().ownerId)
  })

  it('round-trips through PKCS#8 PEM', () => {
    const key = generateOwnerKey()
    const pem = ownerKeyToPem(key)
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(ownerKeyFromPem(pem).ownerId).toBe(key.ownerId)
  })

  it('rejects a PEM holding a key that is not Ed25519 with ERR_KEY_FILE', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    expect(() => ownerKeyFromPem(pem)).toThrow(KeyFileError)
    expect(() => ownerKeyFromPrivateKey(privateKey)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
  })

  it('rejects text that is not a PEM private key, or a damaged one, with ERR_KEY_FILE', () => {
    expect(() => ownerKeyFromPem('hello')).toThrow(expect.objectContaining({ code: 'ERR_KEY_FILE' }))
    const pem = ownerKeyToPem(generateOwnerKey())
    const damaged = pem.replace(/\n(.{10})/, '\n!!!!!!!!!!')
    expect(() => ownerKeyFromPem(damaged)).toThrow(expect.objectContaining({ code: 'ERR_KEY_FILE' }))
  })
})
