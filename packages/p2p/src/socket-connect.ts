import type { Socket } from 'node:net'
import { connect as tcpConnect } from 'node:net'
import { type SecureContext, type TLSSocket, connect as tlsConnect } from 'node:tls'
import { formatAddress } from './address.js'
import { AbortedError, ConnectionClosedError, HandshakeError } from './errors.js'

/**
 * Opens a TCP connection, or a TLS one with `secureContext` (its handshake
 * goes on after this resolves); rejects with ConnectionClosedError when it
 * cannot connect within `timeout` ms, AbortedError when `signal` fires.
 */
export function openSocket(
  host: string,
  port: number,
  opts: {
    secureContext: SecureContext | undefined
    timeout: number
    signal: AbortSignal | undefined
    /** The local address to connect from; default the system's choice. */
    localAddress?: string | undefined
    /** Sees the socket at once, so that a transport closing meanwhile can destroy it. */
    track(socket: Socket): void
  },
): Promise<Socket> {
  const { secureContext, timeout, signal } = opts
  const from = opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }
  const socket = secureContext
    ? tlsConnect({
        host,
        port,
        ...from,
        secureContext,
        // Peers are self-signed and pinned by nodeId, which the handshake checks.
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
      })
    : tcpConnect({ host, port, ...from })
  opts.track(socket)
  return new Promise<Socket>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no connection within ${timeout} ms`)), timeout)
    const onAbort = (): void => fail(new AbortedError({ cause: signal?.reason }))
    const cleanup = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      socket.off('error', fail)
      socket.off('connect', onConnect)
    }
    const onConnect = (): void => {
      cleanup()
      resolve(socket)
    }
    function fail(err: Error): void {
      cleanup()
      socket.destroy()
      reject(
        err instanceof AbortedError
          ? err
          : new ConnectionClosedError(`cannot connect to ${formatAddress(host, port)}: ${err.message}`, {
              cause: err,
            }),
      )
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('error', fail)
    socket.once('connect', onConnect)
  })
}

/** Resolves when the TLS handshake of `socket` is done; rejects with HandshakeError (certificate). */
export function waitSecure(socket: TLSSocket, direction: 'inbound' | 'outbound'): Promise<void> {
  return new Promise((resolve, reject) => {
    const event = direction === 'outbound' ? 'secureConnect' : 'secure'
    const onError = (err: Error): void => {
      socket.off(event, onSecure)
      reject(new HandshakeError('certificate', `TLS handshake failed: ${err.message}`, { cause: err }))
    }
    const onSecure = (): void => {
      socket.off('error', onError)
      resolve()
    }
    socket.once(event, onSecure)
    socket.once('error', onError)
  })
}
