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

/** HTTP status for an error code from the server, crypto or store packages. */
export function statusForCode(code: string | undefined): number {
  switch (code) {
    case 'ERR_NOT_FOUND':
      return 404
    case 'ERR_INVALID_ID':
    case 'ERR_INVALID_KEY':
    case 'ERR_INVALID_NAME':
    case 'ERR_INVALID_CAPABILITY':
    case 'ERR_INVALID_RANGE':
    case 'ERR_BAD_REQUEST':
      return 400
    case 'ERR_TOO_LARGE':
      return 413
    case 'ERR_UNAUTHORIZED':
      return 403
    case 'ERR_AMBIGUOUS':
      return 409
    case 'ERR_QUOTA':
    case 'ERR_DISK_FULL':
      return 507
    case 'ERR_INTEGRITY':
      return 502
    case 'ERR_TIMEOUT':
      return 504
    default:
      return 500
  }
}
