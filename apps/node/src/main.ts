import { CasNode, VERSION } from './cas-node.js'
import { helpText, type LoadConfigResult, loadConfig } from './config.js'
import { tuneGc } from './gc-tuning.js'
import { createLogger } from './logger.js'

/** Exit codes of cas-node. */
export const EXIT_FAILURE = 1
export const EXIT_CONFIG = 2
export const EXIT_PORT_IN_USE = 3

function fail(message: string, code: number): never {
  process.stderr.write(`cas-node: ${message}\n`)
  process.exit(code)
}

let loaded: LoadConfigResult
try {
  loaded = loadConfig({ argv: process.argv.slice(2), env: process.env })
} catch (err) {
  fail((err as Error).message, (err as { code?: string }).code === 'ERR_CONFIG' ? EXIT_CONFIG : EXIT_FAILURE)
}

if (loaded.kind === 'help') {
  process.stdout.write(`${helpText()}\n`)
} else if (loaded.kind === 'version') {
  process.stdout.write(`${VERSION}\n`)
} else {
  tuneGc()
  // Everything the node writes (catalogue, store, logs of its own) is the user's alone.
  process.umask(0o077)
  const { config } = loaded
  const logger = createLogger(config)
  let signals = 0
  // A signal, or POST /v1/stop: a graceful stop, then exit 0. A second signal exits at once.
  const onSignal = (signal: NodeJS.Signals | 'POST /v1/stop') => {
    signals += 1
    if (signals > 1) fail(`${signal} again: exiting without a clean stop`, EXIT_FAILURE)
    logger.info({ signal }, 'stopping')
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed')
        process.exit(EXIT_FAILURE)
      },
    )
  }
  const node = new CasNode({ config, logger, onStopRequest: () => onSignal('POST /v1/stop') })
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    await node.start()
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ERR_PORT_IN_USE') fail((err as Error).message, EXIT_PORT_IN_USE)
    if (code === 'ERR_CONFIG') fail((err as Error).message, EXIT_CONFIG)
    if (code === undefined || code === 'ERR_INTERNAL') logger.error({ err }, 'start failed')
    fail((err as Error).message, EXIT_FAILURE)
  }
}
