/**
 * The part of hyperdht (a CommonJS package without types) that DhtDiscovery uses. What the DHT
 * returns from other nodes is `unknown` here: the caller validates it.
 */
declare module 'hyperdht' {
  export interface KeyPair {
    publicKey: Buffer
    secretKey: Buffer
  }

  export interface HyperDHTOptions {
    /** host:port of the nodes to join through; hyperdht falls back to public nodes when omitted. */
    bootstrap: string[]
    /** Local address of the UDP socket; default 0.0.0.0. */
    host?: string
    /** true: a client that never stores records for others. */
    ephemeral?: boolean
  }

  /** A query across the DHT: the replies of the nodes asked, as they arrive. */
  export interface Query extends AsyncIterable<unknown> {
    finished(): Promise<void>
  }

  export default class HyperDHT {
    constructor(options: HyperDHTOptions)
    static keyPair(seed?: Buffer): KeyPair
    /** This node's address as other nodes see it, once they have said; null before. */
    readonly host: string | null
    fullyBootstrapped(): Promise<void>
    announce(topic: Buffer, keyPair: KeyPair, relayAddresses: []): Query
    lookup(topic: Buffer): Query
    unannounce(topic: Buffer, keyPair: KeyPair): Promise<void>
    mutablePut(keyPair: KeyPair, value: Buffer, options?: { seq?: number }): Promise<unknown>
    /** The value signed by `publicKey`, its signature checked by hyperdht; null when no node has one. */
    mutableGet(publicKey: Buffer, options?: { latest?: boolean }): Promise<unknown>
    destroy(options?: { force?: boolean }): Promise<void>
  }
}
