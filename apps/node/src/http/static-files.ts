import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { extname, join, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { HttpError } from '../errors.js'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
}

/**
 * The dashboard's page may only load its own files and talk to this node: no inline script, no
 * other origin, no framing (clickjacking).
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

/**
 * Sends one file of the dashboard's build: `index.html` for the page itself, else a file of its
 * `assets/` folder (named by content hash, so cached for good). Nothing outside `root` is served.
 */
export async function sendStaticFile(
  res: ServerResponse,
  root: string | undefined,
  file: string,
  head: boolean,
): Promise<void> {
  if (root === undefined) {
    throw new HttpError(404, 'ERR_NOT_FOUND', 'this node was built without its dashboard')
  }
  if (file !== 'index.html' && (file.includes('/') || file.includes('\\') || file.startsWith('.'))) {
    throw new HttpError(404, 'ERR_NOT_FOUND', 'no such file')
  }
  const path = file === 'index.html' ? join(root, file) : join(root, 'assets', file)
  if (!path.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new HttpError(404, 'ERR_NOT_FOUND', 'no such file')
  }
  const info = await stat(path).catch(() => undefined)
  if (!info?.isFile()) throw new HttpError(404, 'ERR_NOT_FOUND', `no such file: ${file}`)
  res.writeHead(200, {
    ...PAGE_HEADERS,
    'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': file === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
  })
  if (head) {
    res.end()
    return
  }
  await pipeline(createReadStream(path), res)
}
