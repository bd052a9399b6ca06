import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  X509Certificate as NodeX509Certificate,
} from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { IdentityError } from './errors.js'
import { selfSignedEd25519Certificate } from './self-signed-certificate.js'

/** A node's TLS identity: a self-signed Ed25519 certificate and its key, both PEM. */
export interface NodeIdentity {
  certPem: string
  keyPem: string
  /** SHA-256 of the certificate's public key (SPKI DER), 64 hex. */
  nodeId: string
}

/** How long a new node certificate stays valid; nodes are pinned by nodeId, not by expiry. */
export const NODE_CERT_VALIDITY_DAYS = 3650
export const NODE_CERT_FILE = 'node.crt'
export const NODE_KEY_FILE = 'node.key'

export function nodeIdOf(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('hex')
}

/** SPKI DER of a PEM certificate's public key. */
export function certificateSpki(certPem: string | Buffer): Buffer {
  return new NodeX509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' })
}

/** A new identity: an Ed25519 key pair and a self-signed certificate for it, valid for ten years. */
export async function createNodeIdentity(): Promise<NodeIdentity> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const notBefore = new Date(Date.now() - 60_000)
  const notAfter = new Date(notBefore.getTime() + NODE_CERT_VALIDITY_DAYS * 86_400_000)
  const certPem = selfSignedEd25519Certificate({
    publicKey,
    privateKey,
    commonName: 'cas node',
    notBefore,
    notAfter,
  })
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  return { certPem, keyPem, nodeId: nodeIdOf(certificateSpki(certPem)) }
}

/** Reads `<dir>/node.crt` and `<dir>/node.key`, creating both (key mode 0600) when neither exists. */
export async function loadOrCreateNodeIdentity(dir: string): Promise<NodeIdentity> {
  const certPath = join(dir, NODE_CERT_FILE)
  const keyPath = join(dir, NODE_KEY_FILE)
  const [certPem, keyPem] = await Promise.all([readIfPresent(certPath), readIfPresent(keyPath)])
  if (certPem === undefined && keyPem === undefined) {
    const identity = await createNodeIdentity()
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await writeFile(keyPath, identity.keyPem, { mode: 0o600, flag: 'wx' })
    await chmod(keyPath, 0o600)
    await writeFile(certPath, identity.certPem, { flag: 'wx' })
    return identity
  }
  if (certPem === undefined || keyPem === undefined) {
    throw new IdentityError(
      `${dir} holds only one of ${NODE_CERT_FILE} and ${NODE_KEY_FILE}; restore or remove it`,
    )
  }
  return checkIdentity(certPem, keyPem, dir)
}

function checkIdentity(certPem: string, keyPem: string, dir: string): NodeIdentity {
  try {
    const spki = certificateSpki(certPem)
    const key = createPrivateKey(keyPem)
    if (key.asymmetricKeyType !== 'ed25519')
      throw new Error(`the key is ${key.asymmetricKeyType}, not ed25519`)
    const matching = new NodeX509Certificate(certPem).checkPrivateKey(key)
    if (!matching) throw new Error('the key does not belong to the certificate')
    return { certPem, keyPem, nodeId: nodeIdOf(spki) }
  } catch (err) {
    throw new IdentityError(`invalid node identity in ${dir}: ${(err as Error).message}`, { cause: err })
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new IdentityError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
}
