/** A capability in a path or message: `cas-cap<version>:` (the colon possibly percent-encoded) and its key material. */
const CAPABILITY = /cas-cap\d*(?::|%3a)[^\s/?#"'&]*/gi

/**
 * Text for the node's log with every capability cut to its prefix: a capability opens an object, and a
 * log is read by more people (and kept longer) than the object's owner meant to share it with.
 */
export function redactCapabilities(text: string): string {
  return text.replace(CAPABILITY, (cap) => `${cap.slice(0, cap.search(/:|%3a/i))}:…`)
}
