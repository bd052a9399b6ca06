/** Where a command writes: data to stdout, messages to stderr, JSON instead of text with --json. */
export interface OutputOptions {
  json: boolean
  quiet: boolean
  env: NodeJS.ProcessEnv
  stdout?: NodeJS.WriteStream
  stderr?: NodeJS.WriteStream
}

export class Output {
  readonly json: boolean
  readonly quiet: boolean
  readonly stdout: NodeJS.WriteStream
  readonly stderr: NodeJS.WriteStream
  /** False when NO_COLOR is set (https://no-color.org); colour also needs the target stream to be a TTY. */
  readonly color: boolean
  /** Progress bars: stderr is a TTY and neither --json nor --quiet. */
  readonly progress: boolean

  constructor(opts: OutputOptions) {
    this.json = opts.json
    this.quiet = opts.quiet
    this.stdout = opts.stdout ?? process.stdout
    this.stderr = opts.stderr ?? process.stderr
    this.color = !opts.env.NO_COLOR
    this.progress = this.stderr.isTTY === true && !opts.json && !opts.quiet
  }

  /** The command's result: JSON with --json, else the human text. */
  result(value: unknown, human: () => string): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value)}\n`)
    else {
      const text = human()
      if (text) this.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
    }
  }

  /** A message for a person (stderr), dropped by --quiet and --json. */
  info(message: string): void {
    if (!this.quiet && !this.json) this.stderr.write(`${message}\n`)
  }

  /** A warning (stderr), dropped only by --quiet. */
  warn(message: string): void {
    if (!this.quiet) this.stderr.write(`${this.paint('33', 'warning:', this.stderr)} ${message}\n`)
  }

  error(message: string, code: string): void {
    if (this.json) this.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`)
    else this.stderr.write(`${this.paint('31', 'cas:', this.stderr)} ${message}\n`)
  }

  /** Colours for results (stdout): plain when stdout is piped, so that tools downstream get clean text. */
  green(text: string): string {
    return this.paint('32', text, this.stdout)
  }

  red(text: string): string {
    return this.paint('31', text, this.stdout)
  }

  dim(text: string): string {
    return this.paint('2', text, this.stdout)
  }

  paint(sgr: string, text: string, stream: NodeJS.WriteStream): string {
    return this.color && stream.isTTY === true ? `\x1b[${sgr}m${text}\x1b[0m` : text
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

export function formatBytes(n: number): string {
  let v = n
  let i = 0
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024
    i += 1
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[i]}`
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const pad = (x: number) => String(x).padStart(2, '0')
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`
}

/** How long ago `at` (ms since 1970) was, coarsely: `just now`, `5 min ago`, `3 h ago`, `2 d ago`. */
export function formatAgo(at: number, now = Date.now()): string {
  const s = Math.max(0, (now - at) / 1000)
  if (s < 60) return 'just now'
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}

/** Left-aligned columns separated by two spaces. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleLength(c))))
      .join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}

function visibleLength(s: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  return s.replace(/\x1b\[[0-9;]*m/g, '').length
}
