import { once } from 'node:events'
import type { Duplex } from 'node:stream'

/**
 * Byte streams that are not connections yet (connecting, or in their handshake). A closing
 * transport destroys them: they have nothing to flush, and nothing else would end them.
 */
export class PendingSockets {
  readonly #sockets = new Set<Duplex>()

  /** Tracks `socket` until it closes or becomes a connection; adding it again does nothing. */
  add(socket: Duplex): void {
    if (this.#sockets.has(socket)) return
    // Failures surface through 'close' and the handshake; never let a late 'error' go unheard.
    socket.on('error', () => {})
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
  }

  /** The stream became a connection: the connection set closes it from now on. */
  delete(socket: Duplex): void {
    this.#sockets.delete(socket)
  }

  /** Destroys every pending stream; resolves once each has closed. */
  async destroyAll(): Promise<void> {
    const all = [...this.#sockets]
    for (const s of all) s.destroy()
    await Promise.all(all.map((s) => (s.closed ? undefined : once(s, 'close'))))
  }
}
