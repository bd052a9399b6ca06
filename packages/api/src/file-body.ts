import type { FileHandle } from 'node:fs/promises'
import type { ClientRequest } from 'node:http'
import { ClientError } from './client-errors.js'

/** Bytes per read of the file. */
const PIECE_SIZE = 1024 * 1024
/** Pieces read ahead of the socket: what a file body holds in memory at most (4 MiB). */
const PIECES = 4

/**
 * A request body read from an open file: its first `size` bytes (the request's content-length).
 * It is sent through a few buffers, each reused once the socket has taken it, instead of a new
 * buffer per read as a read stream makes: a 1 GiB put then gives the garbage collector nothing to
 * do (a read stream's gigabyte of buffers cost the client more CPU than the reads and the socket).
 * The handle is read from offset 0 and never closed here.
 */
export class FileBody {
  constructor(
    readonly file: FileHandle,
    readonly size: number,
    /** Called with each piece's length once the socket has taken it (progress). */
    readonly onBytes?: (n: number) => void,
  ) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad file body size ${size}`)
  }
}

/**
 * Writes a file body to a request and ends it. Stops early, without error, when the request
 * closes first (a refused upload: the answer says why); fails with ERR_FILE_CHANGED when the
 * file holds fewer bytes than its size said.
 */
export async function sendFile(req: ClientRequest, body: FileBody): Promise<void> {
  const free: Buffer[] = []
  let made = 0
  let closed = false
  let waiting: ((buf: Buffer | undefined) => void) | undefined
  const wake = (buf: Buffer | undefined): boolean => {
    const w = waiting
    waiting = undefined
    w?.(buf)
    return w !== undefined
  }
  const onClose = (): void => {
    closed = true
    wake(undefined)
  }
  const give = (buf: Buffer): void => {
    if (!wake(buf)) free.push(buf)
  }
  const take = (): Promise<Buffer | undefined> | Buffer | undefined => {
    if (closed) return undefined
    const buf = free.pop()
    if (buf) return buf
    if (made < PIECES) {
      made++
      return Buffer.allocUnsafeSlow(Math.min(PIECE_SIZE, body.size))
    }
    return new Promise((resolve) => {
      waiting = resolve
    })
  }
  req.once('close', onClose)
  try {
    let at = 0
    while (at < body.size) {
      const buf = await take()
      if (buf === undefined) return
      const { bytesRead } = await body.file.read(buf, 0, Math.min(buf.byteLength, body.size - at), at)
      if (bytesRead === 0) {
        throw new ClientError(
          'ERR_FILE_CHANGED',
          `the file ended after ${at} of its ${body.size} bytes: it changed while it was sent`,
        )
      }
      at += bytesRead
      if (closed) return
      // The socket holds the piece until this callback: only then is its buffer read into again.
      req.write(buf.subarray(0, bytesRead), () => {
        body.onBytes?.(bytesRead)
        give(buf)
      })
    }
    req.end()
  } finally {
    req.off('close', onClose)
  }
}
