/** hyperdht's local testnet, as the DHT tests use it. */
declare module 'hyperdht/testnet.js' {
  export interface Testnet {
    /** The address of its first node, which every other node of the testnet joined through. */
    readonly bootstrap: { host: string; port: number }[]
    readonly nodes: { address(): { host: string; port: number } }[]
    destroy(): Promise<void>
  }
  /** `size` DHT nodes (non-ephemeral, so they store records), bound to `host` when it is 127.0.0.1. */
  export default function createTestnet(size?: number, options?: { host?: string }): Promise<Testnet>
}
