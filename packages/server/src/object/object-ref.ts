/**
 * Everything needed to find and open one object, whoever asks: the owner
 * (from a cid and its keys) or anyone holding a capability. The object key is
 * undefined when the owner will read it from the replica's sealed key box.
 */
export interface ObjectRef {
  cid: string
  ownerId: string
  locator: string
  objectKey: Uint8Array | undefined
  /** Plaintext size when known (catalogue or capability). */
  size: number | undefined
  /** Another owner's object, read through a capability. */
  shared: boolean
}
