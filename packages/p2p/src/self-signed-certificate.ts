import { type KeyObject, randomBytes, sign } from 'node:crypto'

/**
 * A self-signed X.509 v3 certificate for an Ed25519 key (RFC 5280, RFC 8410), written as DER by hand.
 * A node's certificate is always the same shape (one common name, one critical "not a CA" extension), so
 * a few lines of DER replace a certificate library and its dozens of modules, which cost every new node a
 * tenth of a second to load. Node's own `X509Certificate` reads the result; the tests check it there.
 */
export interface SelfSignedOptions {
  publicKey: KeyObject
  privateKey: KeyObject
  commonName: string
  notBefore: Date
  notAfter: Date
}

/** The certificate, PEM. */
export function selfSignedEd25519Certificate(opts: SelfSignedOptions): string {
  const spki = opts.publicKey.export({ type: 'spki', format: 'der' })
  const name = seq(set(seq(oid(OID_COMMON_NAME), tlv(UTF8_STRING, Buffer.from(opts.commonName, 'utf8')))))
  const basicConstraints = seq(oid(OID_BASIC_CONSTRAINTS), tlv(BOOLEAN, Buffer.from([0xff])), octets(seq()))
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // [0] version: v3
    integer(serialNumber()),
    ED25519_ALGORITHM,
    name,
    seq(time(opts.notBefore), time(opts.notAfter)),
    name,
    spki,
    tlv(0xa3, seq(basicConstraints)), // [3] extensions
  )
  const signature = sign(null, tbs, opts.privateKey)
  const der = seq(tbs, ED25519_ALGORITHM, tlv(BIT_STRING, Buffer.concat([Buffer.from([0]), signature])))
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`
}

const BOOLEAN = 0x01
const INTEGER = 0x02
const BIT_STRING = 0x03
const OCTET_STRING = 0x04
const OBJECT_IDENTIFIER = 0x06
const UTF8_STRING = 0x0c
const UTC_TIME = 0x17
const GENERALIZED_TIME = 0x18
const SEQUENCE = 0x30
const SET = 0x31

const OID_ED25519 = [1, 3, 101, 112]
const OID_COMMON_NAME = [2, 5, 4, 3]
const OID_BASIC_CONSTRAINTS = [2, 5, 29, 19]
/** AlgorithmIdentifier for Ed25519: the OID alone, no parameters (RFC 8410 section 3). */
const ED25519_ALGORITHM = seq(oid(OID_ED25519))

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length
  let length: number[]
  if (n < 0x80) length = [n]
  else if (n < 0x100) length = [0x81, n]
  else if (n < 0x10000) length = [0x82, n >> 8, n & 0xff]
  else throw new RangeError(`DER content of ${n} bytes is longer than a certificate needs`)
  return Buffer.concat([Buffer.from([tag, ...length]), content])
}

function seq(...items: Buffer[]): Buffer {
  return tlv(SEQUENCE, Buffer.concat(items))
}

function set(...items: Buffer[]): Buffer {
  return tlv(SET, Buffer.concat(items))
}

function octets(content: Buffer): Buffer {
  return tlv(OCTET_STRING, content)
}

/** A non-negative INTEGER from big-endian bytes: a leading 0 keeps the top bit from reading as a sign. */
function integer(bytes: Buffer): Buffer {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0 && ((bytes[start + 1] ?? 0) & 0x80) === 0) start += 1
  const trimmed = bytes.subarray(start)
  return tlv(INTEGER, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed)
}

function oid(arcs: readonly number[]): Buffer {
  const [first = 0, second = 0, ...rest] = arcs
  const bytes = [first * 40 + second]
  for (const arc of rest) {
    const base128 = [arc & 0x7f]
    for (let v = arc >>> 7; v > 0; v >>>= 7) base128.unshift((v & 0x7f) | 0x80)
    bytes.push(...base128)
  }
  return tlv(OBJECT_IDENTIFIER, Buffer.from(bytes))
}

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 section 4.1.2.5), to the second, in UTC. */
function time(date: Date): Buffer {
  const iso = date.toISOString() // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`
  const year = date.getUTCFullYear()
  if (year < 1950 || year > 9999) throw new RangeError(`a certificate cannot hold the year ${year}`)
  return year < 2050
    ? tlv(UTC_TIME, Buffer.from(digits.slice(2), 'ascii'))
    : tlv(GENERALIZED_TIME, Buffer.from(digits, 'ascii'))
}

/** 16 random bytes, positive and with a non-zero first byte: 120+ bits of entropy as RFC 5280 asks. */
function serialNumber(): Buffer {
  const serial = randomBytes(16)
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01
  return serial
}
