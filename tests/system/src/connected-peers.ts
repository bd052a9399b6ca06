import { type ClusterNode, LocalCluster, until } from '@cas/test-kit'

/** Waits until `node` reports exactly `n` connected peers: more, as much as fewer, keeps it waiting. */
export async function untilConnectedPeers(node: ClusterNode, n: number, timeoutMs: number): Promise<void> {
  await until(
    `${node.name} to be connected to ${n} peer(s)`,
    async () => (await LocalCluster.connectedPeers(node)) === n,
    timeoutMs,
  )
}
