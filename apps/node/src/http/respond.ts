import type { ServerResponse } from 'node:http'

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    // The body has started: the only honest signal left is to cut the connection.
    res.destroy()
    return
  }
  sendJson(res, status, { error: { code, message } })
}

/** HTTP status for an error code from the server, crypto or store packages (@cas/api's table). */
export { statusForCode } from '@cas/api'
