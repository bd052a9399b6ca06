import { locatorOf, ObjectOpener, type OwnerSecrets, openObjectKey } from '@cas/crypto'
import type { Store } from '@cas/store'
import type { Catalogue } from './catalogue.js'
import { isId } from './ids.js'
import { readReplicaHead } from './object/replica-file.js'
import { DEFAULT_REPLICATION } from './options.js'

/**
 * Fills the catalogue from the store: every replica in `self` that opens with
 * the owner key becomes an owned object (names and holders are unknown;
 * repair re-learns holders by asking the ranked peers), every replica under a
 * 64-hex namespace a held replica. Files that are not format 2 replicas are
 * skipped and left as they are.
 */
export async function rebuildCatalogue(
  store: Store,
  catalogue: Catalogue,
  secrets: OwnerSecrets,
): Promise<{ objects: number; held: number }> {
  let objects = 0
  let held = 0
  for await (const namespace of store.namespaces()) {
    if (namespace === 'self') {
      for await (const { key: cid, mtimeMs } of store.entries('self')) {
        if (!isId(cid)) continue
        try {
          const head = await readReplicaHead(store, 'self', cid)
          const objectKey = openObjectKey(secrets, head.signed.commit.keyBox, locatorOf(secrets, cid))
          const { size } = new ObjectOpener(objectKey, head.signed.commit.manifestBox, cid)
          await catalogue.putObject({
            cid,
            size,
            names: [],
            created: Math.floor(mtimeMs),
            replication: DEFAULT_REPLICATION,
            holders: [],
            shared: false,
            objectKey,
          })
          objects++
        } catch {
          // Another owner's object read through a capability, or not a replica: its key is not ours to find.
        }
      }
    } else if (isId(namespace)) {
      for await (const { key: locator, size } of store.entries(namespace)) {
        if (!isId(locator)) continue
        try {
          const head = await readReplicaHead(store, namespace, locator)
          const { issuedAt } = head.signed.commit
          await catalogue.putHeld(namespace, locator, {
            size,
            writtenAt: issuedAt,
            digest: head.signed.digest,
          })
          held++
        } catch {
          // Not a replica this version can vouch for: not counted, not served.
        }
      }
    }
  }
  return { objects, held }
}
