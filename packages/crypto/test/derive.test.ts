import { describe, expect, it } from 'vitest'
import {
  deriveOwnerSecrets,
  fileKeys,
  generateOwnerKey,
  locatorOf,
  ownerKeyFromPem,
  ownerKeyToPem,
} from '../src/index.js'

const cidA = 'a'.repeat(64)
const cidB = 'b'.repeat(64)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('derived keys', () => {
  it('derives the same secrets from the same key after a PEM round trip', () => {
    const key = generateOwnerKey()
    const again = ownerKeyFromPem(ownerKeyToPem(key))
    const a = deriveOwnerSecrets(key)
    const b = deriveOwnerSecrets(again)
    expect([a.encKey, a.macKey, a.locKey].map(hex)).toEqual([b.encKey, b.macKey, b.locKey].map(hex))
    expect(locatorOf(a, cidA)).toBe(locatorOf(b, cidA))
  })

  it('derives 32-byte keys that differ from each other and between owners', () => {
    const a = deriveOwnerSecrets(generateOwnerKey())
    const b = deriveOwnerSecrets(generateOwnerKey())
    const all = [a.encKey, a.macKey, a.locKey, b.encKey, b.macKey, b.locKey]
    for (const k of all) expect(k.length).toBe(32)
    expect(new Set(all.map(hex)).size).toBe(6)
  })

  it('derives distinct file keys per cid and a 64-hex locator', () => {
    const secrets = deriveOwnerSecrets(generateOwnerKey())
    const a = fileKeys(secrets, cidA)
    const b = fileKeys(secrets, cidB)
    expect(new Set([a.fileKey, a.fileMacKey, b.fileKey, b.fileMacKey].map(hex)).size).toBe(4)
    expect(locatorOf(secrets, cidA)).toMatch(/^[0-9a-f]{64}$/)
    expect(locatorOf(secrets, cidA)).not.toBe(locatorOf(secrets, cidB))
  })

  it('rejects a cid that is not 64 lowercase hex with ERR_INVALID_ARGUMENT', () => {
    const secrets = deriveOwnerSecrets(generateOwnerKey())
    for (const cid of ['', 'A'.repeat(64), 'a'.repeat(63), `${'a'.repeat(63)}g`, `${cidA}\n`]) {
      expect(() => fileKeys(secrets, cid)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
      expect(() => locatorOf(secrets, cid)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    }
  })
})
