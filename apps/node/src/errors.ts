/** Base of every error the node throws; callers branch on `code`. */
export class NodeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A configuration value (flag, environment variable or config file) is invalid. */
export class ConfigError extends NodeError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('ERR_CONFIG', message)
  }
}

/** A port the node wants to listen on is taken. */
export class PortInUseError extends NodeError {
  constructor(
    readonly address: string,
    readonly what: string,
    readonly option: string,
  ) {
    super('ERR_PORT_IN_USE', `${address} is already in use (${what}); choose another with ${option}`)
  }
}

/** The data directory cannot be set up or read (permissions, a damaged key file, …). */
/** An HTTP API error: the status code and a stable `code` go to the client as JSON. */
export class HttpError extends NodeError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message)
  }
}
