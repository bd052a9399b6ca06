import { execFileSync } from 'node:child_process'
import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { selfSignedEd25519Certificate } from '../src/self-signed-certificate.js'

function make(notBefore: Date, notAfter: Date) {
  const keys = generateKeyPairSync('ed25519')
  const pem = selfSignedEd25519Certificate({ ...keys, commonName: 'cas node', notBefore, notAfter })
  return { keys, pem, cert: new X509Certificate(pem) }
}

describe('selfSignedEd25519Certificate', () => {
  it('writes a v3 certificate that Node reads, signed by its own key, for that key', () => {
    const notBefore = new Date('2026-12-06T07:30:15.250Z')
    const notAfter = new Date('2036-12-04T07:30:15.250Z')
    const { keys, pem, cert } = make(notBefore, notAfter)
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----\n$/)
    expect(cert.subject).toBe('CN=cas node')
    expect(cert.issuer).toBe('CN=cas node')
    expect(cert.verify(keys.publicKey)).toBe(true)
    expect(cert.checkPrivateKey(keys.privateKey)).toBe(true)
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      keys.publicKey.export({ type: 'spki', format: 'der' }),
    )
    expect(cert.ca).toBe(false)
    expect(new Date(cert.validFrom).toISOString()).toBe('2026-12-06T07:30:15.000Z')
    expect(new Date(cert.validTo).toISOString()).toBe('2036-12-04T07:30:15.000Z')
    expect(cert.serialNumber).toMatch(/^[0-9A-F]{32}$/)
    expect(Number.parseInt(cert.serialNumber.slice(0, 2), 16)).toBeLessThan(0x80)
  })

  it('another key does not verify it, and each certificate has its own serial number', () => {
    const a = make(new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'))
    const b = make(new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'))
    expect(a.cert.verify(b.keys.publicKey)).toBe(false)
    expect(a.cert.serialNumber).not.toBe(b.cert.serialNumber)
  })

  it('writes dates from 2050 on as GeneralizedTime, and refuses a year it cannot hold', () => {
    const { cert } = make(new Date('2049-12-31T23:59:59Z'), new Date('2051-06-01T12:00:00Z'))
    expect(new Date(cert.validFrom).toISOString()).toBe('2049-12-31T23:59:59.000Z')
    expect(new Date(cert.validTo).toISOString()).toBe('2051-06-01T12:00:00.000Z')
    expect(() => make(new Date('1949-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'))).toThrow(RangeError)
  })

  it.runIf(hasOpenssl())('is read and self-verified by the openssl command', () => {
    const { pem } = make(new Date(Date.now() - 60_000), new Date(Date.now() + 86_400_000))
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' })
    expect(text).toContain('Version: 3 (0x2)')
    expect(text).toContain('Signature Algorithm: ED25519')
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/)
    const dir = mkdtempSync(join(tmpdir(), 'cas-cert-'))
    try {
      const file = join(dir, 'node.crt')
      writeFileSync(file, pem)
      // Strict checks, the certificate as its own trust anchor, its self-signature checked too.
      const args = ['verify', '-x509_strict', '-check_ss_sig', '-partial_chain', '-trusted', file, file]
      expect(execFileSync('openssl', args, { encoding: 'utf8' }).trim()).toBe(`${file}: OK`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
