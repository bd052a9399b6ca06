import { generateKeyPairSync } from 'node:crypto'
import { createServer, type Server } from 'node:net'
import { generateOwnerKey } from '@cas/crypto'
import type { NodeIdentity } from '@cas/p2p'
import { MAX_GOSSIP_RECORDS, type PeerRecord, PeerRecordSigner } from '../../src/index.js'
import { makeTransport, type TestTransport, type TransportMode } from './cluster.js'

/** Gossip messages one peer may send per interval (DEFAULT_GOSSIP_PER_SOURCE). */
const PER_SOURCE = 10

/**
 * Signed records from freshly minted identities (one Ed25519 key each, as cheap as an attacker's),
 * their addresses taken in turn from `addrs`.
 */
export function mintedPeerRecords(count: number, addrs: string[]): PeerRecord[] {
  const seq = Date.now()
  return Array.from({ length: count }, (_, i) => {
    const { privateKey } = generateKeyPairSync('ed25519')
    const keyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    // The signer reads only the key: no certificate is needed to sign a record.
    const signer = new PeerRecordSigner({ keyPem } as NodeIdentity)
    return signer.sign([addrs[i % addrs.length] as string], seq)
  })
}

/**
 * Gossips `records` to the node at `addr` from as many minted identities as the per-source bound
 * needs (10 messages of 32 records each), all at once. The attackers do not listen, so they announce
 * no address of their own. Resolves with the transports, to close, once every message was answered.
 */
export async function floodGossip(
  mode: TransportMode,
  addr: string,
  records: PeerRecord[],
): Promise<TestTransport[]> {
  const perAttacker = PER_SOURCE * MAX_GOSSIP_RECORDS
  const attackers: TestTransport[] = []
  const sent: Promise<unknown>[] = []
  for (let i = 0; i < records.length; i += perAttacker) {
    const { transport } = await makeTransport(mode, generateOwnerKey())
    attackers.push(transport)
    const peer = await transport.dial(addr)
    const mine = records.slice(i, i + perAttacker)
    for (let j = 0; j < mine.length; j += MAX_GOSSIP_RECORDS) {
      sent.push(peer.request({ op: 'gossip', records: mine.slice(j, j + MAX_GOSSIP_RECORDS) }))
    }
  }
  await Promise.all(sent)
  return attackers
}

/** A loopback address nothing listens on. */
export async function deadAddr(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `127.0.0.1:${port}`
}

/** Loopback listeners that count the connections made to them (and close each at once). */
export class DialCounter {
  readonly times: number[] = []
  readonly addrs: string[] = []
  readonly #servers: Server[] = []

  static async open(n: number): Promise<DialCounter> {
    const counter = new DialCounter()
    for (let i = 0; i < n; i++) {
      const server = createServer((socket) => {
        counter.times.push(Date.now())
        socket.destroy()
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      counter.#servers.push(server)
      counter.addrs.push(`127.0.0.1:${(server.address() as { port: number }).port}`)
    }
    return counter
  }

  async close(): Promise<void> {
    await Promise.all(this.#servers.map((s) => new Promise((resolve) => s.close(resolve))))
  }
}
