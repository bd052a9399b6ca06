import { type OwnerKey, sign } from '@cas/crypto'
import type { OwnerSigner } from '@cas/p2p'

/** Adapts an owner key to the signer the p2p handshake asks for (p2p never sees the key). */
export function ownerSigner(key: OwnerKey): OwnerSigner {
  return { publicKeyDer: key.publicKeyDer, sign: (data) => sign(key, data) }
}
