import { createHash } from 'node:crypto'

/**
 * Maps a key to a relative path inside a namespace folder: '/'-separated, no empty, '.' or '..' segment.
 * The store checks every result, so a faulty transform cannot reach outside the root.
 */
export type PathTransform = (key: string) => string

/** Folder names are this many hex characters long. */
export const CAS_PATH_SEGMENT_LENGTH = 5

/**
 * SHA-1 of the key, hex, cut into 5-character folders, the file named by the whole digest.
 * SHA-1 only spreads files evenly over folders here; content is addressed by SHA-256.
 */
export function casPathTransform(key: string): string {
  const digest = createHash('sha1').update(key).digest('hex')
  const folders: string[] = []
  for (let i = 0; i < digest.length; i += CAS_PATH_SEGMENT_LENGTH) {
    folders.push(digest.slice(i, i + CAS_PATH_SEGMENT_LENGTH))
  }
  return `${folders.join('/')}/${digest}`
}
