import type { Duplex } from 'node:stream'
import { backoffDelay, sleep } from './backoff.js'
import type { ConnectionSet } from './connection-set.js'
import { AbortedError } from './errors.js'
import type { Logger } from './logger.js'
import type { DialOptions, Peer } from './transport.js'

export interface DiallerOptions {
  /** Extra connect attempts when DialOptions.retries is not given. */
  retries: number
  /** First retry delay and its ceiling, in ms (see backoffDelay). */
  backoff: number
  backoffMax: number
  logger: Logger
  connections: ConnectionSet
  isClosing(): boolean
  /** Turns a connected stream into a connection to the peer. */
  upgrade(opened: Opened, expectNodeId: string | undefined): Promise<Peer>
}

/** A connected byte stream, and the other end's address as it shows it. */
export interface Opened {
  stream: Duplex
  remoteAddress: string
}

/** Opens the byte stream to an address: one attempt; rejects when nobody answers there. */
export type Connect = (signal: AbortSignal | undefined) => Promise<Opened>

/**
 * Dials: it reuses an open connection to the expected node, shares one attempt between
 * concurrent dials of one address, and retries a failed connect with backoff (never a
 * failed handshake: the peer answered, and said no).
 */
export class Dialler {
  readonly #dialing = new Map<string, Promise<Peer>>()

  constructor(private readonly opts: DiallerOptions) {}

  dial(addr: string, dialOpts: DialOptions, connect: Connect): Promise<Peer> {
    if (dialOpts.expectNodeId !== undefined) {
      const existing = this.opts.connections.open(dialOpts.expectNodeId)
      if (existing) return Promise.resolve(existing)
    }
    // One dial at a time per address: two concurrent dials would only race each other.
    const key = `${addr}|${dialOpts.expectNodeId ?? ''}`
    const pending = this.#dialing.get(key)
    if (pending) return pending
    const p = this.withRetries(addr, dialOpts, connect).finally(() => this.#dialing.delete(key))
    this.#dialing.set(key, p)
    return p
  }

  private async withRetries(addr: string, dialOpts: DialOptions, connect: Connect): Promise<Peer> {
    const { signal } = dialOpts
    const retries = dialOpts.retries ?? this.opts.retries
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new AbortedError({ cause: signal.reason })
      let opened: Opened
      try {
        opened = await connect(signal)
      } catch (err) {
        if (attempt >= retries || this.opts.isClosing() || signal?.aborted) throw err
        const wait = backoffDelay(attempt, this.opts.backoff, this.opts.backoffMax)
        this.opts.logger.debug({ err, addr, attempt, wait }, 'dial failed; retrying')
        await sleep(wait, signal)
        continue
      }
      return this.opts.upgrade(opened, dialOpts.expectNodeId)
    }
  }
}
