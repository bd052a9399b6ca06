export { ApiClient, type SendOptions } from './api-client.js'
export { type Connection, type ConnectionOptions, homeOf, resolveConnection } from './connection.js'
export { type CommandContext, createContext, type GlobalOptions } from './context.js'
export {
  type AddNodeOptions,
  type ClusterNode,
  LocalCluster,
  type LocalClusterOptions,
} from './demo/local-cluster.js'
export {
  DEFAULT_START_TIMEOUT,
  DEFAULT_STOP_TIMEOUT,
  type NodeProcess,
  nodeMainPath,
  type StartNodeOptions,
  startNodeProcess,
} from './demo/node-process.js'
export { type DemoOptions, runDemo } from './demo/run-demo.js'
export { until, waitFor } from './demo/wait-for.js'
export { ApiError, CliError, IntegrityError, NodeUnreachableError, UsageError } from './errors.js'
export * from './exit-codes.js'
export { formatBytes, formatDuration, formatTable, Output, type OutputOptions } from './output.js'
export * from './output-schemas.js'
export { byteCounter, ProgressBar } from './progress.js'
