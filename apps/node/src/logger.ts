import { createRequire } from 'node:module'
import { type Logger, pino } from 'pino'
import type PinoPretty from 'pino-pretty'
import type { NodeConfig } from './config-options.js'

/** pino logger: JSON lines, or human-readable lines when stdout is a TTY (logFormat 'auto'). */
export function createLogger(config: Pick<NodeConfig, 'logLevel' | 'logFormat'>): Logger {
  const pretty =
    config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true)
  const base = { level: config.logLevel, timestamp: pino.stdTimeFunctions.isoTime }
  if (!pretty) return pino(base)
  // In-thread pretty printing: a worker-thread transport could lose the last lines at exit.
  // Loaded only here: JSON logs (services, tests, benches) do not pay its start-up cost.
  const pinoPretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty
  const stream = pinoPretty({
    colorize: process.stdout.isTTY === true && !process.env.NO_COLOR,
    sync: true,
    ignore: 'pid,hostname',
    translateTime: 'HH:MM:ss.l',
  })
  return pino(base, stream)
}
