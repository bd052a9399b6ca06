import { createCipheriv, createDecipheriv, randomBytes, type ScryptOptions, scrypt } from 'node:crypto'
import { InvalidArgumentError, KeyFileError, WrongPassphraseError } from './errors.js'
import { type OwnerKey, ownerKeyFromPkcs8Der, SEALED_KEY_PEM_LABEL } from './owner-key.js'

/** scrypt cost parameters, stored in the sealed key file beside the ciphertext. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number
  /** Block size. */
  r: number
  /** Parallelism. */
  p: number
}

/** N = 2^17, r = 8, p = 1: 128 MiB and a few hundred milliseconds per attempt on a current core. */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 })
/** The most memory a sealed key file may ask scrypt for; a file asking for more is refused unread. */
export const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024

const FORMAT = 'cas-sealed-key/1'
const CIPHER = 'aes-256-gcm'
const SALT_BYTES = 16
const IV_BYTES = 12
const GCM_TAG_BYTES = 16
const BEGIN = `-----BEGIN ${SEALED_KEY_PEM_LABEL}-----`
const END = `-----END ${SEALED_KEY_PEM_LABEL}-----`

interface SealedHeader {
  ownerId: string
  params: ScryptParams
  salt: Buffer
  iv: Buffer
}

/** Encrypts the key's PKCS#8 DER under a key stretched from `passphrase` by scrypt; returns the file text. */
export async function sealOwnerKey(
  key: OwnerKey,
  passphrase: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  if (passphrase.length === 0) throw new InvalidArgumentError('the passphrase must not be empty')
  const problem = scryptParamsProblem(params)
  if (problem !== undefined) throw new InvalidArgumentError(`scrypt parameters: ${problem}`)
  const header: SealedHeader = {
    ownerId: key.ownerId,
    params: { N: params.N, r: params.r, p: params.p },
    salt: randomBytes(SALT_BYTES),
    iv: randomBytes(IV_BYTES),
  }
  const headerText = formatHeader(header)
  const aesKey = await stretch(passphrase, header)
  const cipher = createCipheriv(CIPHER, aesKey, header.iv)
  // the header is authenticated too, so its parameters and owner id cannot be swapped unnoticed
  cipher.setAAD(Buffer.from(headerText))
  const der = key.privateKey.export({ format: 'der', type: 'pkcs8' })
  const body = Buffer.concat([cipher.update(der), cipher.final(), cipher.getAuthTag()])
  const lines = body.toString('base64').match(/.{1,64}/g) ?? []
  return `${BEGIN}\n${headerText}\n${lines.join('\n')}\n${END}\n`
}

/** Whether `text` is a sealed key file (as opposed to a plain PKCS#8 PEM). */
export function isSealedOwnerKey(text: string): boolean {
  return text.includes(BEGIN)
}

/** Opens a sealed key file's text; a wrong passphrase is a `WrongPassphraseError`, a damaged file a `KeyFileError`. */
export async function unsealOwnerKey(text: string, passphrase: string, path?: string): Promise<OwnerKey> {
  const { header, headerText, body } = parseSealed(text, path)
  if (body.length <= GCM_TAG_BYTES) throw new KeyFileError(path, `${where(path)} is too short to hold a key`)
  const aesKey = await stretch(passphrase, header)
  const decipher = createDecipheriv(CIPHER, aesKey, header.iv)
  decipher.setAAD(Buffer.from(headerText))
  decipher.setAuthTag(body.subarray(body.length - GCM_TAG_BYTES))
  let der: Buffer
  try {
    der = Buffer.concat([decipher.update(body.subarray(0, body.length - GCM_TAG_BYTES)), decipher.final()])
  } catch {
    throw new WrongPassphraseError(path)
  }
  const key = ownerKeyFromPkcs8Der(der, path)
  if (key.ownerId !== header.ownerId) {
    throw new KeyFileError(
      path,
      `${where(path)} names owner ${header.ownerId} but holds the key of ${key.ownerId}`,
    )
  }
  return key
}

/** The owner id written in a sealed key file's header, readable without the passphrase. */
export function sealedOwnerIdOf(text: string, path?: string): string {
  return parseSealed(text, path).header.ownerId
}

function formatHeader(h: SealedHeader): string {
  return [
    `Format: ${FORMAT}`,
    `Owner-Id: ${h.ownerId}`,
    `Kdf: scrypt N=${h.params.N} r=${h.params.r} p=${h.params.p}`,
    `Salt: ${h.salt.toString('base64')}`,
    `Cipher: ${CIPHER}`,
    `Iv: ${h.iv.toString('base64')}`,
    '',
  ].join('\n')
}

function parseSealed(
  text: string,
  path: string | undefined,
): { header: SealedHeader; headerText: string; body: Buffer } {
  const damaged = (why: string): KeyFileError =>
    new KeyFileError(
      path,
      `${where(path)} is not a valid sealed owner key (${why}); restore it from a backup`,
    )
  const lines = text.trim().split(/\r?\n/)
  if (lines[0] !== BEGIN || lines.at(-1) !== END) throw damaged('missing BEGIN/END lines')
  const blank = lines.indexOf('')
  if (blank < 0) throw damaged('no blank line after the header')
  const fields = new Map<string, string>()
  for (const line of lines.slice(1, blank)) {
    const m = /^([A-Za-z-]+): (.*)$/.exec(line)
    if (m === null || fields.has(m[1]!)) throw damaged(`bad header line "${line.slice(0, 40)}"`)
    fields.set(m[1]!, m[2]!)
  }
  if (fields.get('Format') !== FORMAT) throw damaged(`unknown format "${fields.get('Format') ?? ''}"`)
  if (fields.get('Cipher') !== CIPHER) throw damaged(`unknown cipher "${fields.get('Cipher') ?? ''}"`)
  const ownerId = fields.get('Owner-Id') ?? ''
  if (!/^[0-9a-f]{64}$/.test(ownerId)) throw damaged('bad Owner-Id')
  const kdf = /^scrypt N=(\d{1,8}) r=(\d{1,3}) p=(\d{1,3})$/.exec(fields.get('Kdf') ?? '')
  if (kdf === null) throw damaged('bad Kdf')
  const params = { N: Number(kdf[1]), r: Number(kdf[2]), p: Number(kdf[3]) }
  const problem = scryptParamsProblem(params)
  if (problem !== undefined) throw damaged(problem)
  const salt = base64Field(fields.get('Salt'), SALT_BYTES)
  const iv = base64Field(fields.get('Iv'), IV_BYTES)
  if (salt === undefined || iv === undefined) throw damaged('bad Salt or Iv')
  const bodyText = lines.slice(blank + 1, -1).join('')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(bodyText)) throw damaged('the key body is not base64')
  const header = { ownerId, params, salt, iv }
  // authenticate the canonical form, so that a reformatted but equal header still opens
  return { header, headerText: formatHeader(header), body: Buffer.from(bodyText, 'base64') }
}

function base64Field(value: string | undefined, bytes: number): Buffer | undefined {
  if (value === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined
  const buf = Buffer.from(value, 'base64')
  return buf.length === bytes ? buf : undefined
}

/** Why scrypt parameters are unacceptable, or undefined if they are fine. */
export function scryptParamsProblem({ N, r, p }: ScryptParams): string | undefined {
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0) return `N=${N} is not a power of two ≥ 2`
  if (!Number.isInteger(r) || r < 1 || r > 32) return `r=${r} is outside 1..32`
  if (!Number.isInteger(p) || p < 1 || p > 16) return `p=${p} is outside 1..16`
  if (128 * N * r * p > MAX_SCRYPT_MEMORY) return `N·r·p asks for more than ${MAX_SCRYPT_MEMORY} bytes`
  return undefined
}

function stretch(passphrase: string, header: SealedHeader): Promise<Buffer> {
  const { N, r, p } = header.params
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r * p + 32 * 1024 * 1024 }
  // NFC, so that the same passphrase typed on another keyboard or system gives the same key
  const secret = Buffer.from(passphrase.normalize('NFC'))
  return new Promise((resolve, reject) => {
    scrypt(secret, header.salt, 32, options, (err, key) => (err === null ? resolve(key) : reject(err)))
  })
}

function where(path: string | undefined): string {
  return path === undefined ? 'the text' : `the key file ${path}`
}
