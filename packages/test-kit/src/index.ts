export { casBinPath, nodeMainPath } from './app-paths.js'
export {
  type AddNodeOptions,
  type ClusterNode,
  LocalCluster,
  type LocalClusterOptions,
} from './local-cluster.js'
export { freeUdpPort, loopbackMulticastWorks } from './multicast.js'
export {
  DEFAULT_START_TIMEOUT,
  DEFAULT_STOP_TIMEOUT,
  type NodeProcess,
  NodeStartError,
  type StartNodeOptions,
  startNodeProcess,
} from './node-process.js'
export {
  corruptBytes,
  seededBuffer,
  seededBytes,
  seededCid,
  seededStream,
  writeSeededFile,
} from './seeded-data.js'
export { until, waitFor } from './wait-for.js'
