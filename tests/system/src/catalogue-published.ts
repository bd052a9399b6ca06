import { type ClusterNode, until } from '@cas/test-kit'
import * as z from 'zod'

const CatalogueStatus = z.looseObject({
  catalogue: z.looseObject({ unpublished: z.number().int(), publishing: z.boolean() }),
})

/**
 * Waits until `node` has published every catalogue change it made (its segments and head are with
 * its peers): tests that count what holders hold take their "before" once nothing more is on its way.
 */
export async function untilCataloguePublished(node: ClusterNode, timeoutMs = 20_000): Promise<void> {
  await until(
    `${node.name} to publish its catalogue`,
    async () => {
      const { catalogue } = await node.client.json(CatalogueStatus, 'GET', '/v1/status')
      return catalogue.unpublished === 0 && !catalogue.publishing
    },
    timeoutMs,
  )
}
