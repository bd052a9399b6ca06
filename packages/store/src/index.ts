export { TempFile, WRITE_BUFFER_SIZE } from './atomic-write.js'
export {
  CorruptObjectError,
  DiskFullError,
  InvalidKeyError,
  InvalidNamespaceError,
  InvalidRangeError,
  NotFoundError,
  StoreError,
  StoreIOError,
} from './errors.js'
export { HEADER_MAGIC, HEADER_VERSION, MAX_KEY_BYTES } from './object-header.js'
export { READ_CHUNK_SIZE } from './object-read-stream.js'
export { type ObjectPlacement, ObjectWriter } from './object-writer.js'
export { DEFAULT_MAX_PACK_BYTES, MAX_PACKED_BYTES } from './pack-log.js'
export { CAS_PATH_SEGMENT_LENGTH, casPathTransform, type PathTransform } from './path-transform.js'
export type { Source } from './source.js'
export {
  DEFAULT_NAMESPACE,
  NAMESPACE_PATTERN,
  type NamespaceOption,
  type ObjectStat,
  type ReadOptions,
  Store,
  type StoreOptions,
  validateKey,
  validateNamespace,
  type WriteOptions,
} from './store.js'
export { STALE_TEMPORARY_MS, sweepTemporaries } from './sweep.js'
