export type { NodeBackend } from './backend.js'
export { CasNode, type CasNodeOptions, VERSION } from './cas-node.js'
export { helpText, type LoadConfigInput, type LoadConfigResult, loadConfig } from './config.js'
export {
  DEFAULT_API_PORT,
  DEFAULT_P2P_HOST,
  DEFAULT_P2P_PORT,
  DEFAULT_REPLICATION,
  DEFAULT_SHUTDOWN_TIMEOUT,
  LOG_LEVELS,
  type NodeConfig,
  OPTIONS,
  type OptionSpec,
} from './config-options.js'
export { type HostPort, parseBytes, parseDuration, parseHostPort } from './config-values.js'
export {
  ConfigError,
  HttpError,
  NodeError,
  PortInUseError,
} from './errors.js'
export { type ByteRange, parseRange } from './http/byte-range.js'
export { createLogger } from './logger.js'
export { type MetricsSnapshot, NodeMetrics } from './metrics.js'
