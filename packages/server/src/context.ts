import type { OwnerKey, OwnerSecrets } from '@cas/crypto'
import type { Transport } from '@cas/p2p'
import type { Store } from '@cas/store'
import type { Catalogue } from './catalogue.js'
import type { Logger } from './logger.js'

/** A finished transfer, for metrics. */
export interface TransferEvent {
  direction: 'in' | 'out'
  kind: 'replica' | 'fetch'
  nodeId: string
  bytes: number
}

/** A peer skipped during a fetch because it served bad data, nothing, or too slowly. */
export interface BadPeerEvent {
  nodeId: string
  cid: string
  code: string
  message: string
}

/** What the parts of a FileServer share; built once in start(). */
export interface ServerContext {
  readonly store: Store
  readonly catalogue: Catalogue
  readonly transport: Transport
  readonly ownerKey: OwnerKey
  readonly secrets: OwnerSecrets
  readonly ownerId: string
  readonly logger: Logger
  readonly fetchTimeout: number
  onTransfer(e: TransferEvent): void
  onBadPeer(e: BadPeerEvent): void
}
