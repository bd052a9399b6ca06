import type { Store } from '@cas/store'
import type { Catalogue } from './catalogue.js'
import { isId } from './ids.js'
import { DEFAULT_REPLICATION } from './options.js'

/**
 * Fills the catalogue from the store: every object in `self` becomes an owned
 * object (names and holders are unknown; repair re-learns holders by asking
 * the ranked peers), every object under a 64-hex namespace a held replica.
 */
export async function rebuildCatalogue(
  store: Store,
  catalogue: Catalogue,
): Promise<{ objects: number; held: number }> {
  let objects = 0
  let held = 0
  for await (const namespace of store.namespaces()) {
    if (namespace === 'self') {
      for await (const { key: cid, size, mtimeMs } of store.entries('self')) {
        if (!isId(cid)) continue
        await catalogue.putObject({
          cid,
          size,
          names: [],
          created: Math.floor(mtimeMs),
          replication: DEFAULT_REPLICATION,
          holders: [],
          shared: false,
        })
        objects++
      }
    } else if (isId(namespace)) {
      for await (const { key: locator, size, mtimeMs } of store.entries(namespace)) {
        if (!isId(locator)) continue
        await catalogue.putHeld(namespace, locator, { size, writtenAt: Math.floor(mtimeMs) })
        held++
      }
    }
  }
  return { objects, held }
}
