import { AbortedError, ConnectionClosedError, InvalidArgumentError } from './errors.js'
import { MemoryDuplex } from './memory-duplex.js'

/** The host part of every in-memory address: `memory:<n>`. */
export const MEMORY_HOST = 'memory'
const MAX_PORT = 65_535
const MEMORY_ADDRESS = /^memory:(\d{1,5})$/

/** Takes the listener's end of a new connection. */
export type MemoryAccept = (stream: MemoryDuplex) => void

/**
 * Where in-process transports find each other: a registry of listeners by address
 * (`memory:<n>`, n from 1 to 65535, so that it parses as host:port). Transports on one network
 * reach each other, those on another do not; a test makes its own.
 */
export class MemoryNetwork {
  readonly #listeners = new Map<number, MemoryAccept>()
  #next = 1

  /** Listens on `memory:<port>`, or on a free number when `port` is 0; resolves with the address. */
  listen(port: number, accept: MemoryAccept): string {
    if (port !== 0) {
      if (!Number.isInteger(port) || port < 1 || port > MAX_PORT)
        throw new InvalidArgumentError(`not a memory port: ${port}`)
      if (this.#listeners.has(port)) throw new InvalidArgumentError(`${addressOf(port)} is taken`)
    }
    const n = port === 0 ? this.freePort() : port
    this.#listeners.set(n, accept)
    return addressOf(n)
  }

  /** Stops listening on `addr`; connections already made stay up. */
  unlisten(addr: string): void {
    this.#listeners.delete(parseMemoryAddress(addr))
  }

  /**
   * Connects to `addr`; rejects with ConnectionClosedError when nobody listens there, as a
   * refused TCP connect does. `from` is the address the listener sees as the remote one.
   */
  async connect(addr: string, from: string, signal?: AbortSignal): Promise<MemoryDuplex> {
    if (signal?.aborted) throw new AbortedError({ cause: signal.reason })
    const port = parseMemoryAddress(addr)
    if (!this.#listeners.has(port))
      throw new ConnectionClosedError(`cannot connect to ${addr}: nothing listens there`)
    const [mine, theirs] = MemoryDuplex.pair(addr, from)
    // The listener takes its end on a later turn, as a server socket accepts.
    setImmediate(() => {
      const accept = this.#listeners.get(port)
      if (accept) accept(theirs)
      else theirs.destroy()
    })
    return mine
  }

  private freePort(): number {
    for (let tried = 0; tried < MAX_PORT; tried++) {
      const n = this.#next
      this.#next = n === MAX_PORT ? 1 : n + 1
      if (!this.#listeners.has(n)) return n
    }
    throw new InvalidArgumentError('every memory port is taken')
  }
}

/** The number of a `memory:<n>` address; throws InvalidArgumentError for anything else. */
export function parseMemoryAddress(addr: string): number {
  const m = MEMORY_ADDRESS.exec(addr)
  const n = m ? Number(m[1]) : Number.NaN
  if (!(n >= 1 && n <= MAX_PORT))
    throw new InvalidArgumentError(`not a memory:<n> address: ${JSON.stringify(addr)}`)
  return n
}

function addressOf(port: number): string {
  return `${MEMORY_HOST}:${port}`
}
