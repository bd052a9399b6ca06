import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { HttpError } from '../errors.js'

/**
 * Refuses a request whose Host is not this loopback API (a DNS-rebinding page in a browser
 * sends its own host name), and a browser request from any web origin.
 */
export function checkHost(req: IncomingMessage, boundHost: string, port: number): void {
  const host = req.headers.host?.toLowerCase()
  const bound = boundHost.includes(':') ? `[${boundHost}]:${port}` : `${boundHost}:${port}`
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, bound]
  if (!host || !allowed.includes(host)) {
    throw new HttpError(
      403,
      'ERR_FORBIDDEN_HOST',
      `requests for host ${JSON.stringify(host ?? '')} are refused`,
    )
  }
  const origin = req.headers.origin
  if (origin !== undefined && origin !== `http://${host}`) {
    throw new HttpError(
      403,
      'ERR_FORBIDDEN_ORIGIN',
      `requests from origin ${JSON.stringify(origin)} are refused`,
    )
  }
}

/** Checks `Authorization: Bearer <token>` in constant time. */
export function checkToken(req: IncomingMessage, token: string): void {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')
  const given = Buffer.from(m?.[1] ?? '')
  const wanted = Buffer.from(token)
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    throw new HttpError(
      401,
      'ERR_UNAUTHENTICATED',
      m
        ? 'the API token is wrong'
        : 'an API token is required (Authorization: Bearer <token from <home>/api-token>)',
    )
  }
}
