import { hkdfSync, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hkdf32, hkdfExpand32, hkdfExtract } from '../src/hkdf.js'

describe('hkdf32', () => {
  it('gives RFC 5869 test case 3 (empty salt and info), first 32 bytes', () => {
    const okm = hkdf32(Buffer.alloc(22, 0x0b), '')
    expect(okm.toString('hex')).toBe('8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d')
  })

  it("matches node's hkdfSync for random keys and the format's labels", () => {
    for (const info of ['cas/2/chunk', 'cas/2/manifest', 'cas/2/key-wrap', 'cas/file0123', 'é ü']) {
      for (let i = 0; i < 20; i++) {
        const ikm = randomBytes(1 + (i % 64))
        const expected = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), info, 32))
        expect(hkdf32(ikm, info).equals(expected)).toBe(true)
        expect(hkdfExpand32(hkdfExtract(ikm), info).equals(expected)).toBe(true)
      }
    }
  })
})
